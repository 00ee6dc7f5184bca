use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "zdm",
    version,
    about = "Declarative zero-downtime schema migrations for PostgreSQL"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show how the live database differs from the desired schema.
    Diff(SourceArgs),
    /// Turn the differences into an ordered, phased plan of safe steps.
    Plan(PlanArgs),
    /// Carry out one phase of the plan (or all of them).
    Apply(ApplyArgs),
    /// Show the phases done (from the ledger) and pending (from a fresh plan), and backfill
    /// progress.
    Status(SourceArgs),
    /// Start a schema repository here: a commented zdm.toml and an empty schema/ directory.
    Init(InitArgs),
    /// Write the live schema as schema files: the start of a schema repository.
    Dump(DumpArgs),
    /// Check hand-written migration files for statements that block traffic, rewrite or scan
    /// tables under strong locks, or lose data.
    Lint(LintArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The directory to set up (created if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Live database: URL or key=value connection string (default: DATABASE_URL, PG* variables).
    #[arg(long)]
    pub db: Option<String>,
    /// The directory to write (created if missing). Files an earlier dump wrote are updated
    /// or removed; files without its header line are left alone.
    #[arg(long, default_value = "schema")]
    pub out: PathBuf,
    /// How objects are spread over files.
    #[arg(long, value_enum, default_value_t = DumpLayout::PerObject)]
    pub layout: DumpLayout,
    /// Configuration file (its `schemas` and `ignore` keys limit what is dumped).
    #[arg(long, default_value = "zdm.toml")]
    pub config: PathBuf,
    /// Dump only these schemas (comma-separated names; default: every user schema).
    #[arg(long = "only-schemas", value_delimiter = ',', value_name = "NAME,...")]
    pub schemas: Vec<String>,
    /// Leave these objects out: `[kind:]schema.name` globs (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub ignore: Vec<String>,
    /// Also write the rows of these tables (comma-separated `[schema.]table`, repeatable), as
    /// an `INSERT` under each, marked `-- zdm:data` so zdm manages them by primary key.
    #[arg(long = "data", value_delimiter = ',', value_name = "TABLE,...")]
    pub data: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DumpLayout {
    /// One `schema.sql`.
    Flat,
    /// One file per schema.
    PerSchema,
    /// One directory per schema, one file per table, view, function, type and sequence.
    PerObject,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Migration files, or directories (their *.sql files, sorted).
    #[arg(value_name = "FILE_OR_DIR", required_unless_present_any = ["explain", "rewrite"])]
    pub paths: Vec<PathBuf>,
    /// Live database: table sizes and type coercions from its catalog; with --rewrite, the
    /// starting schema (only read: the migration runs on a shadow copy).
    #[arg(long)]
    pub db: Option<String>,
    /// Print zdm's phased plan (expand / backfill / validate / contract) that reaches the
    /// schema this migration ends with, from --db or --schema.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["explain", "paths"])]
    pub rewrite: Option<PathBuf>,
    /// With --rewrite: start from these schema files instead of a live database.
    #[arg(
        long = "schema",
        value_name = "PATH",
        requires = "rewrite",
        conflicts_with = "db"
    )]
    pub schema: Vec<PathBuf>,
    /// With --rewrite: make the shadow databases on this server instead of an embedded
    /// throwaway cluster.
    #[arg(long, value_name = "URL", requires = "rewrite")]
    pub dev_url: Option<String>,
    /// With --rewrite --format sql: the lock timeout written into the script, in milliseconds.
    #[arg(long, default_value_t = 100, requires = "rewrite")]
    pub lock_timeout: u64,
    /// Print one rule's why, safe alternative and examples.
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,
    /// Also run the style rules (prefer-bigint, prefer-text-field, ...).
    #[arg(long)]
    pub style: bool,
    /// The migration tool wraps each file in a transaction.
    #[arg(long)]
    pub assume_in_transaction: bool,
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub format: LintFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Human,
    Json,
    Github,
    /// The --rewrite plan as a psql script.
    Sql,
}

/// Where the two sides come from.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Live database: URL or key=value connection string (default: DATABASE_URL, PG* variables).
    #[arg(long)]
    pub db: Option<String>,
    /// Desired schema: .sql files or directories (repeatable; default from zdm.toml, else ./schema).
    #[arg(long = "schema", value_name = "PATH")]
    pub schema: Vec<PathBuf>,
    /// Compare two sources offline instead: each a schema directory or a database URL.
    #[arg(long, requires = "to", conflicts_with_all = ["db"])]
    pub from: Option<String>,
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Load the desired schema into this server instead of an embedded throwaway cluster.
    #[arg(long, value_name = "URL")]
    pub dev_url: Option<String>,
    /// Configuration file.
    #[arg(long, default_value = "zdm.toml")]
    pub config: PathBuf,
    /// Manage only these schemas (comma-separated names; default: every user schema).
    /// zdm.toml: `schemas = [...]`.
    #[arg(long = "only-schemas", value_delimiter = ',', value_name = "NAME,...")]
    pub schemas: Vec<String>,
    /// Leave these objects alone on both sides: `[kind:]schema.name` globs, e.g.
    /// `public.hangfire_*`, `function:util.*`, `schema:audit` (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub ignore: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Load the desired schema into the shadow even when the cache holds it (the cache is
    /// $ZDM_CACHE_DIR, default $XDG_CACHE_HOME/zdm or ~/.cache/zdm; safe to delete).
    #[arg(long, env = "ZDM_NO_CACHE", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_cache: bool,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Many databases with the same schema (see `zdm::cli::fleet`).
#[derive(Debug, Clone, Default, Args)]
pub struct FleetArgs {
    /// Run on every database listed in FILE: one connection string (or database name on the
    /// --db server) per line, `#` comments. zdm.toml: `[fleet] file`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["fleet_query", "from"])]
    pub fleet: Option<PathBuf>,
    /// Run on every database this query (run on --db) returns, one connection string or
    /// database name per row. zdm.toml: `[fleet] query`.
    #[arg(long, value_name = "SQL", conflicts_with = "from")]
    pub fleet_query: Option<String>,
    /// How many databases at a time (default 4).
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
    /// The first K databases finish before the others start; a failure among them stops the
    /// rollout (default 0).
    #[arg(long, value_name = "K")]
    pub canary: Option<usize>,
    /// Start no more databases after N have failed; running ones stop after their current
    /// step (default: no limit).
    #[arg(long, value_name = "N")]
    pub max_failures: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Sql,
    Json,
    /// GitHub Actions workflow commands (annotations on the pull request); diff and plan.
    Github,
    /// A pull-request comment; diff and plan.
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Save the plan (with a fingerprint of the schema it was made against) to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Lock timeout written into `--format sql` scripts, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub lock_timeout: u64,
    /// Show the plan without first running it on a shadow copy of the live schema (a plan
    /// saved this way applies before its first phase only).
    #[arg(long)]
    pub no_rehearsal: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PhaseArg {
    Expand,
    Backfill,
    Validate,
    Contract,
    All,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Which phase to run.
    #[arg(long, value_enum)]
    pub phase: PhaseArg,
    /// Apply a plan saved by `zdm plan --out` (refused if the database has moved since).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Allow steps with these hazards: data-loss, table-rewrite, long-lock, not-online,
    /// may-fail, access-change, or `all`.
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub allow_hazards: Vec<String>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Run contract without waiting for the rollback window.
    #[arg(long)]
    pub skip_rollback_window: bool,
    /// How long a step may wait for its lock before it is retried, in milliseconds (default
    /// from zdm.toml `[apply] lock_timeout`, else 100).
    #[arg(long)]
    pub lock_timeout: Option<u64>,
    /// How many times a step that could not get its lock is retried (default from zdm.toml,
    /// else 30).
    #[arg(long)]
    pub lock_retries: Option<u32>,
    /// Print what would run, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Upper bound for each non-concurrent statement, in seconds (default from zdm.toml,
    /// else 3600).
    #[arg(long)]
    pub statement_timeout: Option<u64>,
    /// Pause between backfill batches, in milliseconds (default from zdm.toml, else 0).
    #[arg(long)]
    pub backfill_pause: Option<u64>,
    /// Wait before each backfill batch, index build and validation while a streaming standby
    /// or logical slot is further behind than this: a replay lag (`2s`) or WAL bytes
    /// (`64MB`). Default from zdm.toml `[apply] max_replica_lag`, else off.
    #[arg(long, value_name = "BOUND")]
    pub max_replica_lag: Option<String>,
    /// How long one backfill batch should hold its row locks, in milliseconds (default from
    /// zdm.toml, else 50).
    #[arg(long)]
    pub batch_target_ms: Option<u64>,
    /// How long after expand finished contract may run (e.g. 24h, 30m, 0s; default from
    /// zdm.toml `[apply] rollback_window`, else 24h).
    #[arg(long, value_name = "DURATION")]
    pub rollback_window: Option<String>,
    /// Drop columns and tables even though pg_stat_statements shows queries that use them.
    #[arg(long)]
    pub force: bool,
    /// Run a fresh plan without first running it on a shadow copy of the live schema.
    #[arg(long)]
    pub no_rehearsal: bool,
}
