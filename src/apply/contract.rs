//! Checks before contract drops what the old application used.

use tokio_postgres::Client;

/// A table (or one of its columns) that contract drops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub table: String,
    pub column: Option<String>,
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "column {}.{c}", self.table),
            None => write!(f, "table {}", self.table),
        }
    }
}

/// A statement recorded by pg_stat_statements that mentions something contract drops.
#[derive(Debug, Clone)]
pub struct StatementUse {
    pub object: String,
    pub query: String,
    pub calls: i64,
}

/// Statements in `pg_stat_statements` that mention a dropped table, or a dropped column
/// together with its table; `None` when the extension is not installed (or not loaded).
/// zdm's own statements (DDL, backfill batches, its catalog reads) are left out.
pub async fn statements_using(
    client: &Client,
    dropped: &[Dropped],
) -> Result<Option<Vec<StatementUse>>, tokio_postgres::Error> {
    let schema: Option<String> = client
        .query_opt(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
             WHERE e.extname = 'pg_stat_statements'",
            &[],
        )
        .await?
        .map(|r| r.get(0));
    let Some(schema) = schema else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for d in dropped {
        let (pattern_a, pattern_b) = match &d.column {
            Some(c) => (word(&d.table), word(c)),
            None => (word(&d.table), word(&d.table)),
        };
        let sql = format!(
            "SELECT query, calls FROM {}.pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND query ~* $1 AND query ~* $2 \
               AND query !~* '^\\s*(alter|create|drop|comment|grant|revoke|analyze|vacuum|begin|commit|rollback|set|reset|show)\\M' \
               AND query !~* '^\\s*with batch as' AND query !~* 'pg_catalog|information_schema|\\mzdm\\.' \
             ORDER BY calls DESC LIMIT 20",
            crate::sql::quote_ident(&schema)
        );
        let rows = match client.query(sql.as_str(), &[&pattern_a, &pattern_b]).await {
            Ok(rows) => rows,
            // Installed but not in shared_preload_libraries: nothing to read.
            Err(e)
                if e.code()
                    == Some(&tokio_postgres::error::SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        out.extend(rows.iter().map(|r| StatementUse {
            object: d.to_string(),
            query: r.get(0),
            calls: r.get(1),
        }));
    }
    Ok(Some(out))
}

/// A case-insensitive whole-word regular expression for an identifier.
fn word(ident: &str) -> String {
    let escaped: String = ident
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect();
    format!("\\m{escaped}\\M")
}
