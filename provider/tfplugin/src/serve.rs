//! Starting the plugin: read what the host asked for, listen on loopback, set up AutoMTLS, print the handshake
//! (or, in `--debug` mode, the reattach line), serve the gRPC services, and exit when Terraform says so.

use crate::controller::{Controller, Stdio};
use crate::protocol::plugin::{grpc_controller_server::GrpcControllerServer, grpc_stdio_server::GrpcStdioServer};
use crate::protocol::server::ProviderService;
use crate::protocol::tfplugin6::provider_server::ProviderServer;
use crate::provider::Provider;
use crate::{debug, handshake, logging, tls};
use std::io::Write;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;

/// How long a client may take to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight calls may take to finish after Shutdown before the process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// A request holds one resource's configuration, state and plan. Decoding expands msgpack in memory (about 40 x for
/// a tree of small values), so the cap bounds what one request can cost.
const MAX_REQUEST_SIZE: usize = 16 * 1024 * 1024;
/// Answers are small, except the schema of a large provider.
const MAX_RESPONSE_SIZE: usize = 256 * 1024 * 1024;
/// TLS handshakes in progress at once; further connections wait in the listen backlog (an fd flood cannot make every
/// handshake task hold a descriptor).
const MAX_CONCURRENT_HANDSHAKES: usize = 64;
/// Backoff after a failed accept (e.g. EMFILE: out of file descriptors), doubling, as grpc-go's server does.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// How to serve.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The provider's source address, e.g. `registry.terraform.io/acme/thing`; used in the reattach line.
    pub provider_address: String,
    /// Serve for a debugger: no magic cookie, no TLS, print `TF_REATTACH_PROVIDERS`, stop on Ctrl-C.
    pub debug: bool,
}

/// Why the server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Handshake(#[from] handshake::HandshakeError),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("serving gRPC: {0}")]
    Transport(#[from] tonic::transport::Error),
}

fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let context = context.into();
    move |source| ServeError::Io { context, source }
}

/// The entry point for a provider's `main`: `--debug` is the only argument (Terraform passes none). Logs to
/// stderr, serves until Terraform shuts the plugin down, and returns the process exit code (1 on any error,
/// with the reason on stderr).
pub fn serve_from_env_and_args<P: Provider>(provider: P, provider_address: &str) -> ExitCode {
    let mut debug = false;
    for argument in std::env::args().skip(1) {
        match argument.as_str() {
            "--debug" => debug = true,
            other => {
                eprintln!("unexpected argument {other:?}; the only argument is --debug (serve for a debugger)");
                return ExitCode::from(2);
            }
        }
    }
    serve(provider, ServeConfig { provider_address: provider_address.to_string(), debug })
}

/// Runs [`run`] on a new multi-threaded tokio runtime and turns its outcome into an exit code.
pub fn serve<P: Provider>(provider: P, config: ServeConfig) -> ExitCode {
    logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(provider, config));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// Serves `provider` until Terraform calls `GRPCController.Shutdown` (or, in debug mode, until Ctrl-C).
pub async fn run<P: Provider>(provider: P, config: ServeConfig) -> Result<(), ServeError> {
    let provider = Arc::new(provider);
    let shutdown = CancellationToken::new();
    if config.debug {
        return run_debug(provider, &config.provider_address, shutdown).await;
    }
    let binary = std::env::args()
        .next()
        .and_then(|path| std::path::Path::new(&path).file_name().map(|name| name.to_string_lossy().into_owned()));
    let request =
        handshake::read_host_request(binary.as_deref().unwrap_or("this program"), |name| std::env::var(name).ok())?;
    ignore_interrupts();
    let listener = bind(request.port_range).await?;
    let address = listener.local_addr().map_err(io_error("reading the listening address"))?;
    match request.client_certificate_pem {
        Some(pem) => {
            let client_certificate = tls::parse_client_certificate(&pem)?;
            let identity = tls::generate_server_identity()?;
            let handshake = handshake::handshake_line(address, &identity.certificate);
            let acceptor = TlsAcceptor::from(tls::server_config(identity, client_certificate)?);
            let incoming = accept_tls(listener, acceptor, shutdown.clone());
            announce(&handshake)?;
            serve_grpc(provider, incoming, shutdown, true).await
        }
        None => {
            // go-plugin's behaviour for hosts that do not ask for AutoMTLS (Terraform always does).
            tracing::warn!("PLUGIN_CLIENT_CERT is not set: serving without TLS on {address}");
            announce(&handshake::handshake_line(address, &[]))?;
            serve_grpc(provider, plain_incoming(listener), shutdown, true).await
        }
    }
}

async fn run_debug<P: Provider>(
    provider: Arc<P>,
    provider_address: &str,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let listener = bind(None).await?;
    let address = listener.local_addr().map_err(io_error("reading the listening address"))?;
    eprintln!(
        "Provider started in debug mode on {address}. To attach Terraform, run it with this environment variable \
         (the line below on stdout); press Ctrl-C to stop:\n"
    );
    announce(&debug::reattach_line(provider_address, address, std::process::id()))?;
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("interrupted: stopping the debug server");
        stop.cancel();
    });
    serve_grpc(provider, plain_incoming(listener), shutdown, false).await
}

/// Ctrl-C in a terminal reaches every process of the group. Terraform handles it (it sends StopProvider, then
/// Shutdown), so the plugin must survive the signal, as go-plugin plugins do.
fn ignore_interrupts() {
    tokio::spawn(async {
        while tokio::signal::ctrl_c().await.is_ok() {
            tracing::debug!("interrupt ignored: Terraform stops the provider through StopProvider and Shutdown");
        }
    });
}

/// Listens on 127.0.0.1, on the first free port of the host's range if it gave one.
async fn bind(port_range: Option<(u16, u16)>) -> Result<TcpListener, ServeError> {
    let Some((min, max)) = port_range else {
        return TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.map_err(io_error("listening on 127.0.0.1"));
    };
    for port in min..=max {
        if let Ok(listener) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            return Ok(listener);
        }
    }
    Err(ServeError::Io {
        context: format!("listening on 127.0.0.1 in PLUGIN_MIN_PORT..PLUGIN_MAX_PORT ({min}-{max})"),
        source: std::io::Error::new(std::io::ErrorKind::AddrInUse, "no free port in the range"),
    })
}

/// Writes the one line the host reads from our stdout.
fn announce(line: &str) -> Result<(), ServeError> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").and_then(|_| stdout.flush()).map_err(io_error("writing the handshake to stdout"))
}

/// gRPC answers are small writes: with Nagle's algorithm on, each one can wait for the peer's delayed ACK (40 ms on
/// Linux), several times per call. tonic sets TCP_NODELAY on listeners it binds itself, not on streams handed to it.
fn without_nagle(tcp: &TcpStream) {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::warn!("setting TCP_NODELAY: {error}");
    }
}

/// Accepted plain TCP connections (debug mode, or a host that asks for no TLS), with Nagle off.
fn plain_incoming(listener: TcpListener) -> impl tokio_stream::Stream<Item = std::io::Result<TcpStream>> {
    TcpListenerStream::new(listener).map(|accepted| accepted.inspect(without_nagle))
}

/// Accepts TCP connections and completes their TLS handshakes concurrently; only clients that pass the
/// certificate check reach the gRPC server.
fn accept_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shutdown: CancellationToken,
) -> ReceiverStream<Result<TlsStream<TcpStream>, std::io::Error>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    let handshakes = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_HANDSHAKES));
    tokio::spawn(async move {
        let mut backoff = AcceptBackoff::default();
        loop {
            let Ok(permit) = handshakes.clone().acquire_owned().await else { return };
            let (tcp, peer) = tokio::select! {
                _ = shutdown.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        let delay = backoff.failed();
                        // At most one line per second once the backoff is at its ceiling.
                        tracing::warn!("accepting a connection: {error}; retrying in {delay:?}");
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            _ = tokio::time::sleep(delay) => continue,
                        }
                    }
                },
            };
            backoff = AcceptBackoff::default();
            without_nagle(&tcp);
            let acceptor = acceptor.clone();
            let sender = sender.clone();
            tokio::spawn(async move {
                let _permit = permit;
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = sender.send(Ok(tls)).await;
                    }
                    Ok(Err(error)) => tracing::warn!("refused TLS client {peer}: {error}"),
                    Err(_) => tracing::warn!("refused TLS client {peer}: handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(receiver)
}

/// The delay before the next accept after consecutive failures: 5 ms, doubling, at most 1 s.
#[derive(Debug, Default)]
struct AcceptBackoff {
    last: Option<Duration>,
}

impl AcceptBackoff {
    fn failed(&mut self) -> Duration {
        let next = match self.last {
            None => ACCEPT_BACKOFF_MIN,
            Some(last) => (last * 2).min(ACCEPT_BACKOFF_MAX),
        };
        self.last = Some(next);
        next
    }
}

async fn serve_grpc<P, S, IO>(
    provider: Arc<P>,
    incoming: S,
    shutdown: CancellationToken,
    honour_shutdown: bool,
) -> Result<(), ServeError>
where
    P: Provider,
    S: tokio_stream::Stream<Item = Result<IO, std::io::Error>> + Send + 'static,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
{
    let provider_service = ProviderServer::new(ProviderService::new(provider))
        .max_decoding_message_size(MAX_REQUEST_SIZE)
        .max_encoding_message_size(MAX_RESPONSE_SIZE);
    let server = tonic::transport::Server::builder()
        .add_service(provider_service)
        .add_service(GrpcControllerServer::new(Controller::new(shutdown.clone(), honour_shutdown)))
        .add_service(GrpcStdioServer::new(Stdio::new(shutdown.clone())))
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    let grace_expired = async {
        shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = server => served?,
        _ = grace_expired => tracing::warn!("in-flight calls did not finish within {SHUTDOWN_GRACE:?} of shutdown"),
    }
    tracing::debug!("server stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_backoff_doubles_to_one_second() {
        let mut backoff = AcceptBackoff::default();
        let delays: Vec<Duration> = (0..10).map(|_| backoff.failed()).collect();
        assert_eq!(delays[0], Duration::from_millis(5));
        assert_eq!(delays[1], Duration::from_millis(10));
        assert_eq!(delays[7], Duration::from_millis(640));
        assert_eq!(delays[8], Duration::from_secs(1));
        assert_eq!(delays[9], Duration::from_secs(1));
    }

    #[tokio::test]
    async fn accepted_plain_connections_have_nagle_off() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut incoming = Box::pin(plain_incoming(listener));
        let _client = TcpStream::connect(address).await.unwrap();
        let accepted = incoming.next().await.expect("one connection").expect("accepted");
        assert!(accepted.nodelay().unwrap(), "TCP_NODELAY must be set on accepted connections");
    }
}
