//! Waiting for replicas: a backfill or an index build writes WAL as fast as the primary can,
//! and physical standbys and logical subscribers fall behind. With a bound set
//! (`--max-replica-lag`), apply reads the lag on the primary before each backfill batch and
//! before each index build or validation, and waits while any replica is past the bound.

use std::time::{Duration, Instant};
use thiserror::Error;
use tokio_postgres::Client;

/// How far behind a replica may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LagBound {
    /// Replay lag as `pg_stat_replication.replay_lag` measures it (physical standbys).
    Time(Duration),
    /// WAL not yet replayed (standbys) or confirmed (logical slots), in bytes.
    Bytes(u64),
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LagError {
    #[error(
        "invalid replica lag bound {0:?}: a duration (2s, 500ms, 1m) or a size (64MB, 512kB, 1GB)"
    )]
    Invalid(String),
    #[error("cannot read the lag of replica {0}: its LSNs are hidden from this role (grant it pg_monitor)")]
    Hidden(String),
    #[error("reading replica lag: {0}")]
    Query(String),
}

impl LagBound {
    /// `2s`, `500ms`, `1m`, or `64MB`, `512kB`, `1GB` (powers of 1024, as PostgreSQL's own
    /// size units), or a bare number of bytes.
    pub fn parse(text: &str) -> Result<LagBound, LagError> {
        let t = text.trim();
        let split = t
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let n: f64 = number
            .parse()
            .map_err(|_| LagError::Invalid(text.to_string()))?;
        let bytes = |factor: f64| Ok(LagBound::Bytes((n * factor) as u64));
        let time = |secs: f64| Ok(LagBound::Time(Duration::from_secs_f64(n * secs)));
        match unit.trim() {
            "" | "B" => bytes(1.0),
            "kB" | "KB" => bytes(1024.0),
            "MB" => bytes(1024.0 * 1024.0),
            "GB" => bytes(1024.0 * 1024.0 * 1024.0),
            "ms" => time(0.001),
            "s" => time(1.0),
            "m" | "min" => time(60.0),
            _ => Err(LagError::Invalid(text.to_string())),
        }
    }
}

/// One replica as the primary sees it.
#[derive(Debug, Clone)]
pub struct Lag {
    /// `standby walreceiver (127.0.0.1)` or `logical slot sub1`.
    pub name: String,
    /// WAL behind, in bytes; `None` when the role may not see the LSNs.
    pub bytes: Option<i64>,
    pub time: Option<Duration>,
}

/// Every streaming standby and every logical slot with a confirmed position.
pub async fn read(client: &Client) -> Result<Vec<Lag>, LagError> {
    let sql = "SELECT 'standby ' || coalesce(nullif(application_name, ''), pid::text) \
                      || ' (' || coalesce(client_addr::text, 'local') || ')', \
                  pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), replay_lsn)::bigint, \
                  extract(epoch FROM replay_lag)::float8 \
               FROM pg_catalog.pg_stat_replication \
               UNION ALL \
               SELECT 'logical slot ' || slot_name, \
                  pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), confirmed_flush_lsn)::bigint, \
                  NULL::float8 \
               FROM pg_catalog.pg_replication_slots \
               WHERE slot_type = 'logical' AND confirmed_flush_lsn IS NOT NULL";
    let rows = client
        .query(sql, &[])
        .await
        .map_err(|e| LagError::Query(super::server_message(&e)))?;
    Ok(rows
        .iter()
        .map(|r| Lag {
            name: r.get(0),
            bytes: r.get(1),
            time: r
                .get::<_, Option<f64>>(2)
                .map(|s| Duration::from_secs_f64(s.max(0.0))),
        })
        .collect())
}

/// Why apply must wait (the replicas past `bound`, with their lag), or `None`.
pub fn over(lags: &[Lag], bound: LagBound) -> Result<Option<String>, LagError> {
    let mut behind = Vec::new();
    for lag in lags {
        let past = match bound {
            LagBound::Bytes(max) => {
                let Some(bytes) = lag.bytes else {
                    return Err(LagError::Hidden(lag.name.clone()));
                };
                (bytes.max(0) as u64 > max)
                    .then(|| format!("{} is {} behind", lag.name, size(bytes)))
            }
            // A logical slot has no time lag: its bytes are the only measure.
            LagBound::Time(max) => lag
                .time
                .filter(|t| *t > max)
                .map(|t| format!("{} replays {:.1}s behind", lag.name, t.as_secs_f64())),
        };
        behind.extend(past);
    }
    Ok((!behind.is_empty()).then(|| {
        format!(
            "waiting for replicas (bound {}): {}",
            show_bound(bound),
            behind.join("; ")
        )
    }))
}

/// Wait until no replica is past `bound`, calling `on_wait` with the reason when the wait
/// starts and every few seconds while it lasts. Returns how long it waited.
pub async fn wait_below(
    client: &Client,
    bound: LagBound,
    on_wait: &mut dyn FnMut(&str),
) -> Result<Duration, LagError> {
    const POLL: Duration = Duration::from_millis(250);
    const REPEAT: Duration = Duration::from_secs(5);
    let started = Instant::now();
    let mut told: Option<Instant> = None;
    while let Some(why) = over(&read(client).await?, bound)? {
        if told.is_none_or(|t| t.elapsed() >= REPEAT) {
            on_wait(&why);
            told = Some(Instant::now());
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(started.elapsed())
}

fn size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.1} kB", b / 1024.0)
    }
}

fn show_bound(bound: LagBound) -> String {
    match bound {
        LagBound::Bytes(b) => size(b as i64),
        LagBound::Time(t) => format!("{:.1}s", t.as_secs_f64()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_parse_as_durations_or_sizes() {
        assert_eq!(
            LagBound::parse("2s"),
            Ok(LagBound::Time(Duration::from_secs(2)))
        );
        assert_eq!(
            LagBound::parse("500ms"),
            Ok(LagBound::Time(Duration::from_millis(500)))
        );
        assert_eq!(LagBound::parse("64MB"), Ok(LagBound::Bytes(64 << 20)));
        assert_eq!(LagBound::parse("512kB"), Ok(LagBound::Bytes(512 << 10)));
        assert!(LagBound::parse("64 parsecs").is_err());
        assert!(LagBound::parse("fast").is_err());
    }

    #[test]
    fn only_replicas_past_the_bound_are_named_and_hidden_lsns_are_an_error() {
        let lag = |name: &str, bytes, secs: Option<u64>| Lag {
            name: name.to_string(),
            bytes,
            time: secs.map(Duration::from_secs),
        };
        let lags = [
            lag("a", Some(10 << 20), Some(5)),
            lag("b", Some(1024), Some(0)),
        ];
        let why = over(&lags, LagBound::Bytes(1 << 20)).unwrap().unwrap();
        assert!(
            why.contains("a is 10.0 MB behind") && !why.contains("b "),
            "{why}"
        );
        assert!(over(&lags, LagBound::Bytes(64 << 20)).unwrap().is_none());
        let why = over(&lags, LagBound::Time(Duration::from_secs(2)))
            .unwrap()
            .unwrap();
        assert!(why.contains("a replays 5.0s behind"), "{why}");
        assert!(over(&[lag("c", None, None)], LagBound::Bytes(1)).is_err());
    }
}
