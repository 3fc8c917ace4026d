//! `tbseg-serve`: serves a log directory to the stock TensorBoard over its
//! `TensorBoardDataProvider` gRPC protocol (`tensorboard
//! --grpc_data_provider ADDR`), or with `--launch` starts that TensorBoard
//! itself.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tbseg_serve::loader::Loader;
use tbseg_serve::proto::tensor_board_data_provider_server::TensorBoardDataProviderServer;
use tbseg_serve::sampling::SamplesPerPlugin;
use tbseg_serve::service::DataProvider;
use tonic::transport::server::TcpIncoming;

/// Serve a TensorBoard log directory to `tensorboard --grpc_data_provider`.
///
/// Flags are spelled as TensorBoard spells them (`--reload_interval`,
/// `--samples_per_plugin`); the dashed forms work too.
#[derive(Debug, Parser)]
#[command(name = "tbseg-serve", version)]
struct Args {
    /// Log directory: a folder, or with the `object-store` feature an
    /// s3://, gs:// or az:// URL. Every folder holding a file whose name
    /// contains `tfevents` is a run.
    #[arg(long)]
    logdir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free one (printed at start).
    #[arg(long, default_value_t = 6806)]
    port: u16,
    /// Seconds between reloads of the log directory; 0 loads it once.
    #[arg(
        long = "reload_interval",
        alias = "reload-interval",
        default_value_t = 5.0
    )]
    reload_interval: f64,
    /// Points kept per time series, by plugin, as TensorBoard's flag:
    /// `scalars=500,images=0` (0 keeps all). Defaults: scalars=1000,
    /// images=10, audio=10, histograms=500, pr_curves=100, others 10.
    #[arg(
        long = "samples_per_plugin",
        alias = "samples-per-plugin",
        default_value = ""
    )]
    samples_per_plugin: String,
    /// Also start `tensorboard --grpc_data_provider` on this server;
    /// arguments after `--` go to TensorBoard (e.g. `-- --port 6006`).
    #[arg(long)]
    launch: bool,
    /// The TensorBoard program `--launch` starts.
    #[arg(long, default_value = "tensorboard")]
    tensorboard: String,
    /// Arguments passed to TensorBoard with `--launch`.
    #[arg(last = true)]
    tensorboard_args: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tbseg-serve: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: Args) -> Result<(), String> {
    let sampling = SamplesPerPlugin::parse(&args.samples_per_plugin)?;
    if !(args.reload_interval >= 0.0 && args.reload_interval.is_finite()) {
        return Err(format!(
            "--reload_interval {}: expected a number of seconds >= 0",
            args.reload_interval
        ));
    }
    let addr: SocketAddr = format!("{}:{}", args.host, args.port)
        .parse()
        .map_err(|_| format!("--host {}: expected an IP address", args.host))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let incoming = {
        let _guard = runtime.enter();
        TcpIncoming::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?
    };
    let bound = incoming
        .local_addr()
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let loader = Loader::new(&args.logdir, sampling);
    let service = DataProvider::new(loader.logdir());
    let interval = Duration::from_secs_f64(args.reload_interval);
    std::thread::Builder::new()
        .name("tbseg-serve-loader".into())
        .spawn(move || loader.run(interval))
        .map_err(|e| format!("cannot start the loader: {e}"))?;
    println!("tbseg-serve: serving {} on {bound}", args.logdir.display());
    let mut tensorboard = if args.launch {
        let provider = format!("localhost:{}", bound.port());
        let mut command = std::process::Command::new(&args.tensorboard);
        command.arg("--grpc_data_provider").arg(&provider);
        // The projector dashboard reads the folder itself (every other one
        // reads through this server), so a local folder is passed on too.
        let given = |flag: &str| {
            args.tensorboard_args
                .iter()
                .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
        };
        if !tbseg::storage::is_remote(&args.logdir) && !given("--logdir") {
            command.arg("--logdir").arg(&args.logdir);
        }
        let child = command
            .args(&args.tensorboard_args)
            .spawn()
            .map_err(|e| format!("--launch: cannot start {}: {e}", args.tensorboard))?;
        Some(child)
    } else {
        None
    };
    let server = tonic::transport::Server::builder()
        .add_service(
            TensorBoardDataProviderServer::new(service)
                .max_encoding_message_size(usize::MAX)
                .max_decoding_message_size(usize::MAX),
        )
        .serve_with_incoming_shutdown(incoming, async move {
            match tensorboard.as_mut() {
                // Stop serving when the launched TensorBoard exits.
                Some(child) => loop {
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                },
                None => std::future::pending().await,
            }
        });
    runtime
        .block_on(server)
        .map_err(|e| format!("server failed: {e}"))
}
