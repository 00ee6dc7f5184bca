//! Opening a session to a [`ConnectionTarget`], and turning driver errors into
//! [`ConnectError`]s that say what went wrong without the password.

use std::path::Path;

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

use super::{error_chain, tls, ConnectError, ConnectionTarget, SslMode};

impl ConnectionTarget {
    /// Connect, spawning the connection task on the current tokio runtime.
    pub async fn connect(&self) -> Result<Client, ConnectError> {
        // libpq never uses TLS over unix sockets; rustls could not name the server anyway.
        if self.ssl_mode == SslMode::Disable || self.all_unix() {
            let mut config = self.config.clone();
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            let (client, connection) = config.connect(NoTls).await.map_err(|e| self.classify(e))?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(client)
        } else {
            let mode = match (self.ssl_mode, &self.ssl_root_cert) {
                // libpq: with a root certificate, `require` behaves like `verify-ca`.
                (SslMode::Require, Some(p)) if p != Path::new("system") => SslMode::VerifyCa,
                (m, _) => m,
            };
            let tls_config =
                tls::client_config(mode, self.ssl_root_cert.as_deref()).map_err(|cause| {
                    ConnectError::Tls {
                        target: self.to_string(),
                        cause: self.scrub(&cause),
                    }
                })?;
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config);
            let (client, connection) = self
                .config
                .connect(tls)
                .await
                .map_err(|e| self.classify(e))?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(client)
        }
    }

    fn classify(&self, e: tokio_postgres::Error) -> ConnectError {
        let target = self.to_string();
        if let Some(db) = e.as_db_error() {
            let message = self.scrub(db.message());
            let code = db.code();
            return if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            {
                ConnectError::AuthFailed { target, message }
            } else if *code == SqlState::INVALID_CATALOG_NAME {
                ConnectError::DatabaseMissing {
                    dbname: self
                        .dbname()
                        .or(self.user())
                        .unwrap_or_default()
                        .to_string(),
                    target,
                }
            } else {
                ConnectError::Other {
                    target,
                    cause: format!("{message} (SQLSTATE {})", code.code()),
                }
            };
        }
        let head = e.to_string();
        let cause = self.scrub(&error_chain(&e));
        if head.starts_with("error performing TLS handshake") {
            ConnectError::Tls { target, cause }
        } else if head.starts_with("error connecting to server")
            || head.starts_with("timeout waiting for server")
        {
            ConnectError::Unreachable {
                place: self.place(),
                cause,
            }
        } else if head.starts_with("authentication error") {
            ConnectError::AuthFailed {
                target,
                message: cause,
            }
        } else {
            ConnectError::Other { target, cause }
        }
    }

    /// Belt and braces: no message we produce may contain the password.
    fn scrub(&self, text: &str) -> String {
        let one_line = text.replace(['\n', '\r'], " ");
        match self.config.get_password() {
            Some(pw) if !pw.is_empty() => {
                let pw = String::from_utf8_lossy(pw);
                one_line.replace(pw.as_ref(), "********")
            }
            _ => one_line,
        }
    }
}
