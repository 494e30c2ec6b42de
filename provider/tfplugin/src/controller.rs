//! go-plugin's side services: `plugin.GRPCController/Shutdown` (the host is done: exit cleanly) and
//! `plugin.GRPCStdio/StreamStdio` (an empty stream that ends at shutdown; we never write to stdout).

use crate::protocol::plugin::{self as proto, grpc_controller_server, grpc_stdio_server};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

pub(crate) struct Controller {
    shutdown: CancellationToken,
    /// In `--debug` mode the developer, not Terraform, decides when the server stops (Ctrl-C).
    honour_shutdown: bool,
}

impl Controller {
    pub(crate) fn new(shutdown: CancellationToken, honour_shutdown: bool) -> Self {
        Controller { shutdown, honour_shutdown }
    }
}

#[tonic::async_trait]
impl grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<proto::Empty>) -> Result<Response<proto::Empty>, Status> {
        if self.honour_shutdown {
            tracing::debug!("GRPCController.Shutdown: shutting down");
            self.shutdown.cancel();
        } else {
            tracing::info!("GRPCController.Shutdown ignored in debug mode; stop the provider with Ctrl-C");
        }
        Ok(Response::new(proto::Empty {}))
    }
}

pub(crate) struct Stdio {
    shutdown: CancellationToken,
}

impl Stdio {
    pub(crate) fn new(shutdown: CancellationToken) -> Self {
        Stdio { shutdown }
    }
}

#[tonic::async_trait]
impl grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = ReceiverStream<Result<proto::StdioData, Status>>;

    async fn stream_stdio(&self, _: Request<()>) -> Result<Response<Self::StreamStdioStream>, Status> {
        tracing::debug!("GRPCStdio.StreamStdio: nothing to mirror, the stream stays open until shutdown");
        let (sender, receiver) = tokio::sync::mpsc::channel(1);
        let shutdown = self.shutdown.clone();
        // Holding the sender keeps the stream open; dropping it at shutdown ends the stream cleanly, so the
        // server's graceful shutdown does not wait on it.
        tokio::spawn(async move {
            shutdown.cancelled().await;
            drop(sender);
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}
