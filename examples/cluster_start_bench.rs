//! How long an embedded cluster takes to start, with the initdb template
//! (`zdm::shadow::initdb`) and without it (`ZDM_NO_CACHE`, a fresh initdb each time).
//!
//! ```text
//! cargo run --release --example cluster_start_bench -- [STARTS]   # default 10
//! ```
//!
//! Each start is the whole `EmbeddedCluster::start` (data directory, postmaster, first
//! connection accepted) followed by its shutdown, which is not timed.

use std::time::{Duration, Instant};

use zdm::shadow::cluster::{ClusterOptions, EmbeddedCluster};

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn starts(n: usize) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let cluster = EmbeddedCluster::start(ClusterOptions::default())?;
        times.push(started.elapsed());
        drop(cluster);
    }
    Ok(times)
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10);
    // One start first so that the template exists and the binaries are in the page cache.
    starts(1)?;
    std::env::set_var("ZDM_NO_CACHE", "1");
    let fresh = median(starts(n)?);
    std::env::remove_var("ZDM_NO_CACHE");
    let copied = median(starts(n)?);
    println!("median of {n} starts");
    println!("| data directory | start |  vs initdb |");
    println!("|---|---:|---:|");
    println!(
        "| initdb (ZDM_NO_CACHE) | {:.0} ms | 1.00x |",
        fresh.as_secs_f64() * 1e3
    );
    println!(
        "| copy of the template | {:.0} ms | {:.2}x |",
        copied.as_secs_f64() * 1e3,
        copied.as_secs_f64() / fresh.as_secs_f64()
    );
    Ok(())
}
