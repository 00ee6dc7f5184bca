//! A connection together with the catalog queries already prepared on it.
//!
//! Planning dominates a catalog read's server time: the queries are long `UNION`s and joins
//! over the catalogs, and PostgreSQL plans an unnamed statement anew on every run (tens of
//! milliseconds for the unmanaged-objects query alone). A named statement without parameters
//! keeps its plan, so reading the same database again through the same [`Reader`] (rehearsal
//! reads its shadow copy after every phase) skips parsing and planning altogether.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio_postgres::{Client, Row, Statement};

use super::CatalogError;

/// Reads catalogs over one connection, preparing each distinct query once.
pub struct Reader<'a> {
    client: &'a Client,
    prepared: Mutex<HashMap<String, Statement>>,
    /// Whether [`Reader::introspect`] lists the objects zdm does not manage and Citus's
    /// distributed tables (what only a database zdm did not build can hold).
    pub(crate) reads_unmanaged: bool,
}

impl<'a> Reader<'a> {
    pub fn new(client: &'a Client) -> Self {
        Reader {
            client,
            prepared: Mutex::new(HashMap::new()),
            reads_unmanaged: true,
        }
    }

    /// A reader of a database zdm built itself from a model (a rehearsal's copy): everything
    /// in it is something zdm made, so there is nothing unmanaged to list (that query is the
    /// costliest of an introspection to plan, a union of one branch per kind, about a quarter
    /// of the server's time in a `zdm plan`) and no Citus metadata to read.
    pub fn of_own_build(client: &'a Client) -> Self {
        Reader {
            reads_unmanaged: false,
            ..Reader::new(client)
        }
    }

    /// The connection, for statements that are not worth keeping (one-off probes).
    pub fn client(&self) -> &'a Client {
        self.client
    }

    async fn statement(&self, what: &'static str, sql: &str) -> Result<Statement, CatalogError> {
        if let Some(statement) = self.lock().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .client
            .prepare(sql)
            .await
            .map_err(|e| CatalogError::query(what, e))?;
        self.lock().insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Statement>> {
        // The map holds no invariant a panicking holder could break.
        self.prepared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run one catalog query, naming it in the error.
    pub(crate) async fn query(
        &self,
        what: &'static str,
        sql: &str,
    ) -> Result<Vec<Row>, CatalogError> {
        let statement = self.statement(what, sql).await?;
        self.client
            .query(&statement, &[])
            .await
            .map_err(|e| CatalogError::query(what, e))
    }

    /// Run one catalog query that returns exactly one row.
    pub(crate) async fn query_one(
        &self,
        what: &'static str,
        sql: &str,
    ) -> Result<Row, CatalogError> {
        let statement = self.statement(what, sql).await?;
        self.client
            .query_one(&statement, &[])
            .await
            .map_err(|e| CatalogError::query(what, e))
    }
}
