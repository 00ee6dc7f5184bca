//! The shadow database: a fresh, empty database the desired schema is loaded into, either on
//! an embedded throwaway cluster (the default) or on a development server (`--dev-url`).

mod base_dir;
pub mod cluster;
pub mod initdb;

use std::sync::{Arc, Weak};

use thiserror::Error;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::connect::{server_version_num, ConnectError, ConnectionTarget};
use crate::sql::quote_ident;
use cluster::{ClusterError, ClusterOptions, EmbeddedCluster};

/// Where the shadow database lives.
// Built once per run; boxing the target would only make the API clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ShadowSource {
    /// Start a throwaway cluster from local PostgreSQL binaries.
    Embedded { preferred_major: Option<u32> },
    /// Create (and later drop) a temporary database on an existing server.
    DevServer(ConnectionTarget),
}

#[derive(Debug, Error)]
pub enum ShadowError {
    #[error("cannot start the embedded PostgreSQL for the shadow database: {0}")]
    Cluster(#[from] ClusterError),
    #[error("shadow database: {0}")]
    Connect(#[from] ConnectError),
    #[error("shadow database: {context}: {message}")]
    Sql { context: String, message: String },
    #[error("shadow database: the embedded cluster start task failed: {0}")]
    Join(String),
}

impl ShadowError {
    fn sql(context: impl Into<String>, e: &tokio_postgres::Error) -> Self {
        ShadowError::Sql {
            context: context.into(),
            message: db_message(e),
        }
    }
}

/// The server's message for a database error (with SQLSTATE), else the error chain.
pub fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            let mut text = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                text.push_str(": ");
                text.push_str(&s.to_string());
                src = s.source();
            }
            text
        }
    }
}

/// `CREATE DATABASE name [TEMPLATE template]`. Retries a few times while the template is
/// in use by another session (SQLSTATE 55006), which makes concurrent copies fail.
pub async fn create_database(
    admin: &Client,
    name: &str,
    template: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    let mut sql = format!("CREATE DATABASE {}", quote_ident(name));
    if let Some(t) = template {
        sql.push_str(" TEMPLATE ");
        sql.push_str(&quote_ident(t));
    }
    let mut attempt = 0u32;
    loop {
        match admin.batch_execute(&sql).await {
            Err(e) if e.code() == Some(&SqlState::OBJECT_IN_USE) && attempt < 50 => {
                attempt += 1;
                let jitter = rand::random::<u64>() % 20;
                tokio::time::sleep(std::time::Duration::from_millis(20 + jitter)).await;
            }
            other => return other,
        }
    }
}

/// `DROP DATABASE IF EXISTS name`, `WITH (FORCE)` on PostgreSQL 13 and newer.
pub async fn drop_database(admin: &Client, name: &str) -> Result<(), tokio_postgres::Error> {
    let force = server_version_num(admin).await? >= 130000;
    let sql = format!(
        "DROP DATABASE IF EXISTS {}{}",
        quote_ident(name),
        if force { " WITH (FORCE)" } else { "" }
    );
    admin.batch_execute(&sql).await
}

/// A fresh database for the desired schema. Call [`ShadowDatabase::close`] when done.
pub struct ShadowDatabase {
    name: String,
    target: ConnectionTarget,
    admin_target: ConnectionTarget,
    client: Client,
    server_version_num: u32,
    warnings: Vec<String>,
    cluster: Option<Arc<EmbeddedCluster>>,
}

/// Embedded clusters in use, by preferred major: the two sides of `--from DIR --to DIR` each
/// get a database on one cluster instead of a cluster each (an initdb and a server start
/// saved). Weak: a cluster stops when its last shadow database closes.
static EMBEDDED: tokio::sync::Mutex<Vec<(Option<u32>, Weak<EmbeddedCluster>)>> =
    tokio::sync::Mutex::const_new(Vec::new());

/// A running embedded cluster for `preferred_major`: one already in use, or a new one.
async fn embedded_cluster(
    preferred_major: Option<u32>,
) -> Result<Arc<EmbeddedCluster>, ShadowError> {
    let mut clusters = EMBEDDED.lock().await;
    clusters.retain(|(_, weak)| weak.strong_count() > 0);
    if let Some(cluster) = clusters
        .iter()
        .filter(|(major, _)| *major == preferred_major)
        .find_map(|(_, weak)| weak.upgrade())
    {
        return Ok(cluster);
    }
    let cluster = tokio::task::spawn_blocking(move || {
        EmbeddedCluster::start(ClusterOptions {
            preferred_major,
            ..ClusterOptions::default()
        })
    })
    .await
    .map_err(|e| ShadowError::Join(e.to_string()))??;
    let cluster = Arc::new(cluster);
    clusters.push((preferred_major, Arc::downgrade(&cluster)));
    Ok(cluster)
}

impl std::fmt::Debug for ShadowDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShadowDatabase")
            .field("name", &self.name)
            .field("target", &self.target)
            .field("embedded", &self.cluster.is_some())
            .finish()
    }
}

impl ShadowDatabase {
    /// Start the embedded cluster (or use the dev server) and create `zdm_shadow_<hex>` there.
    pub async fn create(source: ShadowSource) -> Result<ShadowDatabase, ShadowError> {
        let (cluster, admin_target, mut warnings) = match source {
            ShadowSource::Embedded { preferred_major } => {
                let cluster = embedded_cluster(preferred_major).await?;
                let admin = cluster.target("postgres");
                let warnings = cluster.warnings.clone();
                (Some(cluster), admin, warnings)
            }
            ShadowSource::DevServer(target) => (None, target, Vec::new()),
        };
        let admin = admin_target.connect().await?;
        let version = server_version_num(&admin)
            .await
            .map_err(|e| ShadowError::sql("reading the server version", &e))?;
        let name = format!("zdm_shadow_{:016x}", rand::random::<u64>());
        // template0: a dev server's template1 may hold extensions or objects of its own.
        create_database(&admin, &name, Some("template0"))
            .await
            .map_err(|e| ShadowError::sql(format!("creating database {name}"), &e))?;
        drop(admin);
        let target = admin_target.with_dbname(&name);
        let client = match target.connect().await {
            Ok(c) => c,
            Err(e) => {
                if cluster.is_none() {
                    if let Ok(admin) = admin_target.connect().await {
                        let _ = drop_database(&admin, &name).await;
                    }
                }
                return Err(e.into());
            }
        };
        if cluster.is_none() && version < 130000 {
            warnings.push(format!(
                "the dev server runs PostgreSQL {}; zdm supports 13 and newer",
                version / 10000
            ));
        }
        Ok(ShadowDatabase {
            name,
            target,
            admin_target,
            client,
            server_version_num: version,
            warnings,
            cluster,
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Connection target of the shadow database itself.
    pub fn target(&self) -> &ConnectionTarget {
        &self.target
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn server_version_num(&self) -> u32 {
        self.server_version_num
    }

    /// True when it runs on an embedded cluster (not a dev server).
    pub fn is_embedded(&self) -> bool {
        self.cluster.is_some()
    }

    /// Notes for the user (e.g. major version mismatch).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Drop the database (best effort on a dev server: the error is returned for the caller to
    /// report) and stop the embedded cluster once no other shadow database uses it.
    pub async fn close(self) -> Result<(), ShadowError> {
        let ShadowDatabase {
            name,
            admin_target,
            client,
            cluster,
            ..
        } = self;
        drop(client);
        match cluster.map(Arc::try_unwrap) {
            Some(Ok(cluster)) => {
                // Stopping waits for the postmaster; keep it off the async worker.
                let _ = tokio::task::spawn_blocking(move || drop(cluster)).await;
                Ok(())
            }
            // Shared with another shadow database: only this one goes.
            Some(Err(_shared)) => {
                if let Ok(admin) = admin_target.connect().await {
                    let _ = drop_database(&admin, &name).await;
                }
                Ok(())
            }
            None => {
                let admin = admin_target.connect().await?;
                drop_database(&admin, &name)
                    .await
                    .map_err(|e| ShadowError::sql(format!("dropping database {name}"), &e))
            }
        }
    }
}
