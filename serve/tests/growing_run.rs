//! The server against a log directory that is being written: over the
//! gRPC API TensorBoard uses, every step of a growing run appears once and
//! in order, a run that appears later is served, and a run whose folder is
//! deleted disappears.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tbseg::summary::SummaryWriter;
use tbseg_serve::loader::Loader;
use tbseg_serve::proto::tensor_board_data_provider_client::TensorBoardDataProviderClient;
use tbseg_serve::proto::tensor_board_data_provider_server::TensorBoardDataProviderServer;
use tbseg_serve::proto::{Downsample, ListRunsRequest, PluginFilter, ReadScalarsRequest};
use tbseg_serve::sampling::SamplesPerPlugin;
use tbseg_serve::service::DataProvider;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Channel;

type Client = TensorBoardDataProviderClient<Channel>;

/// Starts a server on `logdir` reloading every 20 ms; returns a client.
async fn serve(logdir: &std::path::Path) -> Client {
    let loader = Loader::new(logdir, SamplesPerPlugin::default());
    let service = DataProvider::new(loader.logdir());
    std::thread::spawn(move || loader.run(Duration::from_millis(20)));
    let incoming = TcpIncoming::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let addr = incoming.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TensorBoardDataProviderServer::new(service))
            .serve_with_incoming(incoming),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    TensorBoardDataProviderClient::new(channel)
}

/// The steps of `run`'s `tag` now served (all of them: fewer than the
/// scalars reservoir holds).
async fn steps(client: &mut Client, run: &str, tag: &str) -> Vec<i64> {
    let response = client
        .read_scalars(ReadScalarsRequest {
            plugin_filter: Some(PluginFilter {
                plugin_name: "scalars".into(),
            }),
            downsample: Some(Downsample { num_points: 1000 }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    response
        .runs
        .iter()
        .filter(|r| r.run_name == run)
        .flat_map(|r| &r.tags)
        .filter(|t| t.tag_name == tag)
        .flat_map(|t| t.data.clone().unwrap_or_default().step)
        .collect()
}

async fn runs(client: &mut Client) -> Vec<String> {
    let response = client
        .list_runs(ListRunsRequest::default())
        .await
        .unwrap()
        .into_inner();
    response.runs.into_iter().map(|r| r.name).collect()
}

/// Polls `check` until it holds, for at most 30 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn growing_run_is_served_once_per_step_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path().join("a")).unwrap();
    writer.add_scalar("loss", 0.0f32, 0).unwrap();
    writer.flush().unwrap();
    let mut client = serve(dir.path()).await;
    eventually("step 0", || {
        let mut c = client.clone();
        async move { steps(&mut c, "a", "loss").await == [0] }
    })
    .await;

    let mut seen_lengths = Vec::new();
    for step in 1..300i64 {
        writer.add_scalar("loss", step as f32, step).unwrap();
        if step % 7 == 0 {
            writer.flush().unwrap();
        }
        if step == 150 {
            // A new run appears while the first grows.
            let b = SummaryWriter::new(dir.path().join("b")).unwrap();
            b.add_scalar("acc", 0.5f32, 3).unwrap();
            b.close().unwrap();
        }
        if step % 10 == 0 {
            let served = steps(&mut client, "a", "loss").await;
            // Whatever has been read so far: a prefix, each step once.
            let expected: Vec<i64> = (0..served.len() as i64).collect();
            assert_eq!(served, expected, "after writing step {step}");
            seen_lengths.push(served.len());
        }
        if step % 100 == 0 {
            // Let the reload loop catch up with what was flushed, so the
            // served prefix is seen growing while the run is written
            // (however slow the machine).
            writer.flush().unwrap();
            eventually(&format!("step {step} while writing"), || {
                let mut c = client.clone();
                async move { steps(&mut c, "a", "loss").await.len() as i64 > step }
            })
            .await;
        }
    }
    writer.close().unwrap();
    eventually("all 300 steps", || {
        let mut c = client.clone();
        async move { steps(&mut c, "a", "loss").await == (0..300).collect::<Vec<_>>() }
    })
    .await;
    // The reload loop kept up: the served prefix grew while writing.
    assert!(
        seen_lengths.windows(2).any(|w| w[1] > w[0]),
        "{seen_lengths:?}"
    );
    eventually("run b", || {
        let mut c = client.clone();
        async move { steps(&mut c, "b", "acc").await == [3] }
    })
    .await;
    assert_eq!(runs(&mut client).await, ["a", "b"]);

    std::fs::remove_dir_all(dir.path().join("b")).unwrap();
    eventually("run b gone", || {
        let mut c = client.clone();
        async move { runs(&mut c).await == ["a"] }
    })
    .await;
}
