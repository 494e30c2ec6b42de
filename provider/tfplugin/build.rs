//! Compiles `proto/*.proto` (at the workspace root) with protox, a pure-Rust protobuf compiler, so no system `protoc`
//! is needed, then generates prost messages and tonic services from the descriptors.

use std::path::PathBuf;

const PROTO_FILES: [&str; 3] = ["tfplugin6.proto", "grpc_controller.proto", "grpc_stdio.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    for file in PROTO_FILES {
        println!("cargo:rerun-if-changed={}", proto_dir.join(file).display());
    }
    let descriptors = protox::compile(PROTO_FILES, [&proto_dir])?;
    tonic_prost_build::configure()
        .build_server(true)
        // The client is only used by this crate's protocol tests, which include the generated file themselves.
        .build_client(true)
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}
