//! `zdm init`: the start of a schema repository, a commented `zdm.toml` beside an empty
//! `schema/`. Never overwrites: an existing `zdm.toml` is an error.

use anyhow::{bail, Context as _};

use super::args::InitArgs;

/// Every key `zdm.toml` takes, with its default, so the file documents itself.
pub const CONFIG_TEMPLATE: &str = r#"# zdm configuration. Every key is also a flag of the same name; a flag wins.

# The desired schema: files or directories of .sql files, relative to this file.
schema = ["schema"]

# A PostgreSQL server zdm may create throwaway databases on to load the desired schema
# (the "shadow"). Without it, zdm starts its own embedded server for each run.
# dev_url = "postgres://localhost/postgres"

# The schemas zdm manages (flag: --only-schemas a,b). Default: every user schema.
# schemas = ["public"]

# Objects zdm leaves alone on both sides, never creating, changing or dropping them
# (flag: --ignore, repeatable): [kind:]schema.name globs, kinds table, view,
# materialized_view, function, procedure, sequence, type, schema. A left-out table takes its
# triggers, policies, grants, partitions and owned sequences with it.
# ignore = ["public.hangfire_*", "schema:audit"]

[apply]
# How long after expand finished contract may run (e.g. 24h, 30m, 0s).
rollback_window = "24h"
# How long a step may wait for its lock before it is retried, in milliseconds.
lock_timeout = 100
# How many times a step that could not get its lock is retried.
lock_retries = 30
# Upper bound for each non-concurrent statement, in seconds.
statement_timeout = 3600
# How long one backfill batch should hold its row locks, in milliseconds.
batch_target_ms = 50
# Pause between backfill batches, in milliseconds.
backfill_pause = 0
# Hazard kinds apply runs without --allow-hazards (data-loss, table-rewrite, long-lock,
# not-online, may-fail, access-change, access-loss); none by default.
allow_hazards = []
"#;

pub fn run(args: InitArgs) -> anyhow::Result<u8> {
    let config = args.dir.join("zdm.toml");
    if config.exists() {
        bail!(
            "{} already exists; zdm init leaves it alone",
            config.display()
        );
    }
    let schema = args.dir.join("schema");
    std::fs::create_dir_all(&schema)
        .with_context(|| format!("cannot create {}", schema.display()))?;
    std::fs::write(&config, CONFIG_TEMPLATE)
        .with_context(|| format!("cannot write {}", config.display()))?;
    println!(
        "wrote {} and {}/\nnext: put the CREATE statements of your schema in .sql files there, then run `zdm diff --db URL`",
        config.display(),
        schema.display()
    );
    Ok(0)
}
