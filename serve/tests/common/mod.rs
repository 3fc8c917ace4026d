//! What the gRPC tests share: a server in the test's runtime, fed by a
//! loader reloading every 20 ms, and the client calls they check it with.
#![allow(dead_code)] // Each test uses its own share of these.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tbseg_serve::loader::Loader;
use tbseg_serve::proto::tensor_board_data_provider_client::TensorBoardDataProviderClient;
use tbseg_serve::proto::tensor_board_data_provider_server::TensorBoardDataProviderServer;
use tbseg_serve::proto::{Downsample, ListRunsRequest, PluginFilter, ReadScalarsRequest};
use tbseg_serve::service::DataProvider;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Channel;

pub type Client = TensorBoardDataProviderClient<Channel>;

/// Serves what `loader` reads, reloading every 20 ms; returns a client.
pub async fn serve(loader: Loader) -> Client {
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

/// The steps of `run`'s `tag` now served (all of them while there are
/// fewer than the scalars reservoir holds).
pub async fn steps(client: &mut Client, run: &str, tag: &str) -> Vec<i64> {
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

/// The runs now listed.
pub async fn runs(client: &mut Client) -> Vec<String> {
    let response = client
        .list_runs(ListRunsRequest::default())
        .await
        .unwrap()
        .into_inner();
    response.runs.into_iter().map(|r| r.name).collect()
}

/// Polls `check` until it holds, for at most 30 s (a bound against a
/// hang, not a speed requirement).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
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
