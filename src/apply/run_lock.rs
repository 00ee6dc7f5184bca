//! One apply at a time per database: a session-level advisory lock, and who holds it when a
//! second run finds it taken.

use std::time::Duration;

use tokio_postgres::Client;

use super::ApplyError;

/// The key of the session-level advisory lock that keeps applies to one database apart
/// ("zdm" in ASCII; advisory locks are per database).
pub const ADVISORY_LOCK_KEY: i64 = 0x7a_646d;

/// Take the per-database advisory lock for this session, or say who holds it.
pub async fn acquire_run_lock(client: &Client) -> Result<(), ApplyError> {
    let mut tries = 0;
    loop {
        tries += 1;
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&ADVISORY_LOCK_KEY])
            .await
            .map_err(ApplyError::Session)?
            .get(0);
        if got {
            return Ok(());
        }
        // A run that just exited (or was killed) leaves its session behind for a moment,
        // visible or not, until its backend notices: give it a second before calling the
        // lock taken. A real concurrent run holds it far longer.
        if tries < 20 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let holder = lock_holder(client)
            .await?
            .unwrap_or_else(|| "a session that is not visible to this user".to_string());
        return Err(ApplyError::Busy { holder });
    }
}

/// Release the lock taken by [`acquire_run_lock`].
pub async fn release_run_lock(client: &Client) -> Result<(), tokio_postgres::Error> {
    client
        .query_one("SELECT pg_advisory_unlock($1)", &[&ADVISORY_LOCK_KEY])
        .await
        .map(|_| ())
}

/// Who holds the advisory lock, as one line; None when no visible session does.
async fn lock_holder(client: &Client) -> Result<Option<String>, ApplyError> {
    let holder = client
        .query_opt(
            "SELECT a.pid, coalesce(nullif(a.application_name, ''), '(no application_name)'), \
               coalesce(a.usename::text, '?'), coalesce(a.client_addr::text, 'local socket'), \
               to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), \
               extract(epoch FROM now() - a.backend_start)::float8 \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid \
               AND l.objsubid = 1",
            &[&ADVISORY_LOCK_KEY],
        )
        .await
        .map_err(ApplyError::Session)?;
    Ok(holder.map(|r| {
            let pid: i32 = r.get(0);
            let app: String = r.get(1);
            let user: String = r.get(2);
            let addr: String = r.get(3);
            let since: String = r.get(4);
            let secs: f64 = r.get(5);
            format!(
                "pid {pid} (application_name {app}, user {user}, from {addr}) holds the lock since {since} ({secs:.0} s ago)"
            )
    }))
}
