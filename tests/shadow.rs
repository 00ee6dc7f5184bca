//! The shadow database on a dev server (the harness cluster) and on an embedded cluster.

mod common;

use std::path::PathBuf;

use tokio_postgres::config::Host;
use zdm::shadow::{ShadowDatabase, ShadowSource};

async fn database_exists(name: &str) -> bool {
    let admin = common::cluster()
        .target("postgres")
        .connect()
        .await
        .unwrap();
    let n: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    n == 1
}

#[tokio::test]
async fn dev_server_shadow_is_created_and_dropped() {
    let dev = common::cluster().target("postgres");
    let shadow = ShadowDatabase::create(ShadowSource::DevServer(dev))
        .await
        .unwrap();
    let name = shadow.name().to_string();
    assert!(name.starts_with("zdm_shadow_"), "{name}");
    assert!(!shadow.is_embedded());
    assert!(shadow.warnings().is_empty());
    assert_eq!(shadow.target().dbname(), Some(name.as_str()));
    let current: String = shadow
        .client()
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(current, name);
    shadow
        .client()
        .batch_execute("CREATE TABLE t (id int)")
        .await
        .unwrap();
    // a second session on the shadow database: DROP ... WITH (FORCE) must still work
    let other = shadow.target().connect().await.unwrap();
    assert!(database_exists(&name).await);
    shadow.close().await.unwrap();
    assert!(!database_exists(&name).await);
    drop(other);
}

#[tokio::test]
async fn embedded_shadow_starts_and_cleans_up() {
    let shadow = ShadowDatabase::create(ShadowSource::Embedded {
        preferred_major: None,
    })
    .await
    .unwrap();
    assert!(shadow.is_embedded());
    assert!(shadow.server_version_num() >= 130000);
    let socket_dir: PathBuf = match &shadow.target().config().get_hosts()[0] {
        Host::Unix(p) => p.clone(),
        other => panic!("expected a unix socket, got {other:?}"),
    };
    assert!(socket_dir.exists());
    shadow
        .client()
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY, note text NOT NULL)")
        .await
        .unwrap();
    shadow.close().await.unwrap();
    assert!(
        !socket_dir.exists(),
        "{} still exists",
        socket_dir.display()
    );
}

/// A cluster after the first copies the installation's initdb template instead of running
/// initdb: copies share the template's system identifier, which initdb draws anew each time.
#[tokio::test]
async fn clusters_after_the_first_copy_the_initdb_template() {
    use zdm::shadow::cluster::{ClusterOptions, EmbeddedCluster};
    async fn system_identifier(cluster: &EmbeddedCluster) -> i64 {
        let client = cluster.target("postgres").connect().await.unwrap();
        client
            .query_one("SELECT system_identifier FROM pg_control_system()", &[])
            .await
            .unwrap()
            .get(0)
    }
    let first = EmbeddedCluster::start(ClusterOptions::default()).unwrap();
    let second = EmbeddedCluster::start(ClusterOptions::default()).unwrap();
    assert_ne!(first.root_dir(), second.root_dir());
    assert_eq!(
        system_identifier(&first).await,
        system_identifier(&second).await,
        "the second cluster ran initdb instead of copying the template"
    );
    // Each copy is the cluster's own: a table made in one is not in the other.
    let one = first.target("postgres").connect().await.unwrap();
    one.batch_execute("CREATE TABLE only_here (id int)")
        .await
        .unwrap();
    let other = second.target("postgres").connect().await.unwrap();
    let found: i64 = other
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname = 'only_here'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(found, 0);
}
