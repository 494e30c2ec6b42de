//! The wire side of the plugin: generated tfplugin6 and go-plugin types, converters between them and the domain
//! types, the msgpack/JSON value codec, and the tonic services. Nothing generated leaves this module.

pub(crate) mod dynamic_value;
pub(crate) mod fromproto;
pub(crate) mod json_value;
pub(crate) mod schemas;
pub(crate) mod server;
pub(crate) mod toproto;
pub(crate) mod type_json;

/// Generated from `proto/tfplugin6.proto`.
#[allow(clippy::all, dead_code, unreachable_pub)]
pub(crate) mod tfplugin6 {
    include!(concat!(env!("OUT_DIR"), "/tfplugin6.rs"));
}

/// Generated from `proto/grpc_controller.proto` and `proto/grpc_stdio.proto`.
#[allow(clippy::all, dead_code, unreachable_pub)]
pub(crate) mod plugin {
    include!(concat!(env!("OUT_DIR"), "/plugin.rs"));
}
