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
