//! Shadow databases open at the same time share one embedded cluster (`--from DIR --to DIR`
//! starts one server, not two); the cluster stops with the last of them. A test binary of its
//! own: other tests' shadows in the same process would share the cluster too.

use std::path::PathBuf;

use tokio_postgres::config::Host;
use zdm::shadow::{ShadowDatabase, ShadowSource};

fn socket_dir(shadow: &ShadowDatabase) -> PathBuf {
    match &shadow.target().config().get_hosts()[0] {
        Host::Unix(p) => p.clone(),
        other => panic!("expected a unix socket, got {other:?}"),
    }
}

#[tokio::test]
async fn open_shadows_share_one_cluster_until_the_last_closes() {
    let embedded = || ShadowSource::Embedded {
        preferred_major: None,
    };
    let first = ShadowDatabase::create(embedded()).await.unwrap();
    let second = ShadowDatabase::create(embedded()).await.unwrap();
    assert_eq!(socket_dir(&first), socket_dir(&second), "one cluster");
    assert_ne!(first.name(), second.name(), "a database each");
    let socket = socket_dir(&first);

    first.close().await.unwrap();
    assert!(socket.exists(), "the second shadow still uses the cluster");
    second.client().batch_execute("SELECT 1").await.unwrap();

    second.close().await.unwrap();
    assert!(!socket.exists(), "{} still exists", socket.display());
}
