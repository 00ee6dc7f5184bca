use thiserror::Error;

/// Why reading the catalog failed.
#[derive(Debug, Error)]
pub enum CatalogError {
    /// A catalog query failed (or returned something that did not decode).
    #[error("catalog query `{query}` failed: {message}")]
    Query {
        /// Which query: `columns`, `constraints`, ...
        query: &'static str,
        /// One-line summary of `source`.
        message: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("PostgreSQL server version {version} is not supported (13 or newer is required)")]
    UnsupportedServer { version: i32 },
    /// A catalog value zdm does not know how to read (e.g. a new `confupdtype` letter).
    #[error("catalog query `{query}` returned an unexpected value: {detail}")]
    Unexpected { query: &'static str, detail: String },
}

impl CatalogError {
    pub(crate) fn query(query: &'static str, source: tokio_postgres::Error) -> Self {
        let message = match source.as_db_error() {
            Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
            None => {
                let mut text = source.to_string();
                let mut cause = std::error::Error::source(&source);
                while let Some(c) = cause {
                    text.push_str(": ");
                    text.push_str(&c.to_string());
                    cause = c.source();
                }
                text
            }
        };
        CatalogError::Query {
            query,
            message: message.replace('\n', " "),
            source,
        }
    }

    pub(crate) fn unexpected(query: &'static str, detail: impl Into<String>) -> Self {
        CatalogError::Unexpected {
            query,
            detail: detail.into(),
        }
    }
}
