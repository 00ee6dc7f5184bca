//! Fault injection for the crash tests (`tests/crash_points.rs`).

/// Where a crash point may fire: a step's work is done but the ledger does not know yet, or
/// the ledger has recorded it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    BeforeRecord,
    AfterRecord,
}

/// Fault injection for the crash tests: `ZDM_CRASH_AT=<step>:unrecorded|recorded` ends the
/// process at once, as `kill -9` would (no destructor, no unlock), at that point of that
/// step of a recorded run (never in a rehearsal). Unset, it is one environment lookup a step.
pub fn point(index: usize, at: At) {
    let Ok(spec) = std::env::var("ZDM_CRASH_AT") else {
        return;
    };
    let wanted = match at {
        At::BeforeRecord => format!("{index}:unrecorded"),
        At::AfterRecord => format!("{index}:recorded"),
    };
    if spec == wanted {
        // SIGKILL itself, not abort(): a core dump would keep the process (and so its
        // connections and advisory lock) alive for a while after the "crash".
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        std::process::abort();
    }
}
