//! The conformance corpus (`../shared/conformance`): schema pairs from peers' test suites,
//! run through the real `zdm` binary against the harness cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub struct Case {
    /// `pgschema/create_table__add_column` style name.
    pub name: String,
    pub dir: PathBuf,
    /// Why the case cannot run on this server, when it can't.
    pub skip: Option<String>,
}

impl Case {
    pub fn setup(&self) -> Option<PathBuf> {
        let p = self.dir.join("setup.sql");
        p.exists().then_some(p)
    }

    /// `--schema` arguments for the desired side: setup.sql (if any) and to.sql.
    pub fn desired_schema_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(setup) = self.setup() {
            args.push("--schema".to_string());
            args.push(setup.display().to_string());
        }
        args.push("--schema".to_string());
        args.push(self.dir.join("to.sql").display().to_string());
        args
    }

    pub fn sql(&self, which: &str) -> String {
        let mut text = String::new();
        if let Some(setup) = self.setup() {
            text.push_str(&std::fs::read_to_string(setup).unwrap());
            text.push('\n');
        }
        text.push_str(&std::fs::read_to_string(self.dir.join(which)).unwrap());
        text
    }
}

pub fn corpus_dir() -> PathBuf {
    std::env::var_os("ZDM_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"))
}

/// Every case of an index (`cases.tsv`: schema pairs; `schemas.tsv`: whole schemas built from
/// nothing), with the corpus' own note on whether it loads on PostgreSQL 15.
pub fn cases(index_file: &str) -> Vec<Case> {
    let dir = corpus_dir();
    let index = std::fs::read_to_string(dir.join(index_file)).unwrap_or_else(|e| {
        panic!(
            "the conformance corpus is missing at {} ({e}); set ZDM_CONFORMANCE_DIR",
            dir.display()
        )
    });
    // ZDM_CASES=substring narrows the run while working on a case.
    let only = std::env::var("ZDM_CASES").ok();
    let mut out = Vec::new();
    for line in index.lines().skip(1) {
        if only.as_deref().is_some_and(|o| !line.contains(o)) {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let (name, status) = (fields[0], fields.get(1).copied().unwrap_or("ok"));
        let note = fields.get(2).copied().unwrap_or("");
        out.push(Case {
            name: name.to_string(),
            dir: dir.join(name),
            skip: (status != "ok").then(|| format!("{status}: {note}")),
        });
    }
    out
}

/// Like [`cases`], on the given PostgreSQL major: a case the corpus marks as not loading on
/// 15 runs where `newer_majors.tsv` says it loads (syntax a newer server has, e.g. 18's
/// `WITHOUT OVERLAPS` and `VIRTUAL`).
pub fn cases_on(index_file: &str, server_major: u32) -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/newer_majors.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let loads_since: BTreeMap<&str, u32> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (case, major) = l.split_once('\t')?;
            Some((case.trim(), major.trim().parse().ok()?))
        })
        .collect();
    let mut out = cases(index_file);
    for case in &mut out {
        if loads_since
            .get(case.name.as_str())
            .is_some_and(|since| server_major >= *since)
        {
            case.skip = None;
        }
    }
    out
}

/// `case<TAB>reason[<TAB>majors]` lines; `#` comments. `majors` (e.g. `18` or `17,18`) limits
/// a known failure to those PostgreSQL majors (what only a newer server shows); without it
/// the failure is known on every major.
pub fn known_failures(file: &str, server_major: u32) -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut fields = l.split('\t');
            let case = fields.next().unwrap_or(l).trim().to_string();
            let reason = fields.next().unwrap_or("").trim().to_string();
            let applies = fields.next().is_none_or(|majors| {
                majors
                    .split(',')
                    .any(|m| m.trim().parse() == Ok(server_major))
            });
            applies.then_some((case, reason))
        })
        .collect()
}

pub struct Outcome {
    pub name: String,
    pub result: Result<(), String>,
    /// Neither side has objects zdm does not manage yet (views, functions, grants, ...).
    pub managed_only: bool,
}

/// Whether a database holds only objects zdm manages.
pub async fn managed_only(client: &tokio_postgres::Client) -> bool {
    zdm::catalog::introspect(client)
        .await
        .map(|m| m.unmanaged.is_empty())
        .unwrap_or(false)
}

/// Compare outcomes with the known-failures list, print the summary line, and panic on
/// anything that failed without being listed.
pub fn report(
    label: &str,
    outcomes: &[Outcome],
    skipped: &[(String, String)],
    known: &BTreeMap<String, String>,
) {
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let mut failed = 0;
    for o in outcomes {
        match (&o.result, known.get(&o.name)) {
            (Ok(()), Some(_)) => fixed.push(o.name.clone()),
            (Ok(()), None) => {}
            (Err(e), Some(_)) => {
                failed += 1;
                // ZDM_SHOW_KNOWN=1 shows why the known failures still fail.
                if std::env::var_os("ZDM_SHOW_KNOWN").is_some() {
                    eprintln!("known failure {}: {e}\n", o.name);
                }
            }
            (Err(e), None) => {
                failed += 1;
                unexpected.push(format!("{}: {e}", o.name));
            }
        }
    }
    for (name, why) in skipped {
        eprintln!("skipped {name}: {why}");
    }
    for name in &fixed {
        eprintln!("now passing (remove from the known failures): {name}");
    }
    let passed = outcomes.len() - failed;
    let managed: Vec<&Outcome> = outcomes.iter().filter(|o| o.managed_only).collect();
    let managed_passed = managed.iter().filter(|o| o.result.is_ok()).count();
    println!(
        "{label} (cases with only objects zdm manages): {managed_passed} passed, {} failed",
        managed.len() - managed_passed
    );
    println!(
        "{label}: {passed} passed, {failed} failed, {} skipped ({} known failures, {} unexpected)",
        skipped.len(),
        failed - unexpected.len(),
        unexpected.len()
    );
    assert!(
        unexpected.is_empty(),
        "{} unexpected failure(s):\n{}",
        unexpected.len(),
        unexpected.join("\n\n")
    );
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub async fn zdm(args: &[String]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zdm"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("zdm runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The schema oracles a comparison uses: `pg_dump` reads servers up to its own major and
/// refuses newer ones; the catalog picture ([`crate::common::catalog_dump`]) reads any from 15
/// on. `ZDM_ORACLE=pg_dump|catalog|both` chooses; by default both where pg_dump can read the
/// server (each keeps the other honest), the catalog picture alone where it cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oracles {
    PgDump,
    Catalog,
    Both,
}

impl Oracles {
    pub fn for_server(server_major: u32) -> Oracles {
        match std::env::var("ZDM_ORACLE").as_deref() {
            Ok("pg_dump") => Oracles::PgDump,
            Ok("catalog") => Oracles::Catalog,
            Ok("both") => Oracles::Both,
            Ok(other) => panic!("ZDM_ORACLE={other}: expected pg_dump, catalog or both"),
            // The catalog picture reads 15+ catalogs (attcompression, ...).
            Err(_) if server_major < 15 => Oracles::PgDump,
            Err(_) if pg_dump_major() >= server_major => Oracles::Both,
            Err(_) => Oracles::Catalog,
        }
    }

    pub fn pg_dump(self) -> bool {
        self != Oracles::Catalog
    }

    pub fn catalog(self) -> bool {
        self != Oracles::PgDump
    }
}

/// The major version of the `pg_dump` the tests run.
pub fn pg_dump_major() -> u32 {
    static MAJOR: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MAJOR.get_or_init(|| {
        let out = std::process::Command::new(pg_dump())
            .arg("--version")
            .output()
            .expect("pg_dump --version runs");
        // "pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .nth(2)
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("cannot read pg_dump's version from {text:?}"))
    })
}

pub async fn server_major(client: &tokio_postgres::Client) -> u32 {
    let num: String = client
        .query_one("SHOW server_version_num", &[])
        .await
        .expect("server_version_num")
        .get(0);
    num.parse::<u32>().expect("a number") / 10000
}

/// The normalised schema of a database by the oracles [`Oracles::for_server`] picks: the
/// normalised `pg_dump --schema-only` text, then the catalog picture with each line marked
/// `[catalog]`, so that a difference says which oracle saw it.
pub async fn normalized_dump(conninfo: &str) -> String {
    let target = zdm::connect::ConnectionTarget::parse(Some(conninfo)).expect("conninfo");
    let client = target
        .connect()
        .await
        .expect("connect for the schema oracle");
    let oracles = Oracles::for_server(server_major(&client).await);
    let mut out = String::new();
    if oracles.pg_dump() {
        out.push_str(&pg_dump_normalized(conninfo).await);
        out.push('\n');
    }
    if oracles.catalog() {
        let picture = crate::common::catalog_dump::catalog_dump(&client)
            .await
            .unwrap_or_else(|e| panic!("catalog dump: {e}"));
        for line in picture.lines() {
            out.push_str("[catalog] ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `pg_dump --schema-only`, normalised: comments and blank lines out, statements sorted, the
/// column lines of each CREATE TABLE sorted (added columns go to the end), zdm's schema out.
pub async fn pg_dump_normalized(conninfo: &str) -> String {
    let output = tokio::process::Command::new(pg_dump())
        .args(["--schema-only", "--exclude-schema=zdm", "-d", conninfo])
        .output()
        .await
        .expect("pg_dump runs");
    assert!(
        output.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    normalize_dump(&String::from_utf8_lossy(&output.stdout))
}

fn pg_dump() -> PathBuf {
    for dir in [
        "/usr/lib/postgresql/18/bin",
        "/usr/lib/postgresql/17/bin",
        "/usr/lib/postgresql/16/bin",
        "/usr/lib/postgresql/15/bin",
    ] {
        let p = Path::new(dir).join("pg_dump");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("pg_dump")
}

pub fn normalize_dump(dump: &str) -> String {
    let mut statements: Vec<String> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for line in dump.lines() {
        // pg_dump 15.14+ brackets its output with \restrict KEY / \unrestrict KEY (a random key).
        if line.starts_with("--")
            || line.trim().is_empty()
            || line.starts_with("\\restrict")
            || line.starts_with("\\unrestrict")
        {
            continue;
        }
        current.push(line.to_string());
        if line.trim_end().ends_with(';') {
            statements.push(normalize_statement(&current));
            current.clear();
        }
    }
    if !current.is_empty() {
        statements.push(normalize_statement(&current));
    }
    statements.sort();
    statements.dedup();
    statements.join("\n")
}

fn normalize_statement(lines: &[String]) -> String {
    if lines
        .first()
        .is_some_and(|l| l.starts_with("CREATE TABLE") && l.ends_with('('))
        && lines.len() > 2
    {
        let mut body: Vec<String> = lines[1..lines.len() - 1]
            .iter()
            .map(|l| l.trim().trim_end_matches(',').to_string())
            .collect();
        body.sort();
        let mut out = vec![lines[0].clone()];
        out.extend(body);
        out.push(lines[lines.len() - 1].clone());
        return out.join("\n");
    }
    lines.join("\n")
}

/// `--dev-url` pointing the shadow at the harness cluster: a case costs a CREATE DATABASE,
/// not an initdb.
pub fn dev_url_args() -> Vec<String> {
    vec![
        "--dev-url".to_string(),
        crate::common::server_conninfo("postgres"),
    ]
}

/// The last lines of a command's output, for failure messages.
pub fn tail(run: &Run) -> String {
    let text = format!("{}\n{}", run.stdout, run.stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}

/// Roles the corpus needs, created before any case loads: `postgres` (the peers' test
/// servers' superuser, which the corpus names without creating), and every role a case's
/// files create behind an `IF NOT EXISTS` check. Roles are cluster-wide and the cases of one
/// binary load side by side, so two cases' checks could both see no row and the second
/// `CREATE ROLE` fail with `duplicate key`; created here first, every check finds the role.
/// (Every `CREATE ROLE` in the corpus is guarded that way, so none fails for finding it.)
pub async fn create_shared_roles(cases: &[Case]) {
    let conninfo = crate::common::server_conninfo("postgres");
    let (client, connection) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
        .await
        .expect("harness cluster reachable");
    tokio::spawn(connection);
    let mut roles = roles_created_by(cases);
    roles.insert("postgres".to_string());
    for role in roles {
        let superuser = if role == "postgres" { " SUPERUSER" } else { "" };
        let literal = role.replace('\'', "''");
        let ident = zdm::sql::quote_ident(&role);
        let created = client
            .batch_execute(&format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{literal}') THEN CREATE ROLE {ident}{superuser}; END IF; END $$"
            ))
            .await;
        if let Err(e) = created {
            // Two corpus tests of one binary (cases and whole schemas) get here at once.
            let raced = e.code().is_some_and(|c| {
                *c == tokio_postgres::error::SqlState::UNIQUE_VIOLATION
                    || *c == tokio_postgres::error::SqlState::DUPLICATE_OBJECT
            });
            assert!(raced, "create role {role}: {e:?}");
        }
    }
}

/// The names after `CREATE ROLE` in the cases' files (plain or double-quoted identifiers).
fn roles_created_by(cases: &[Case]) -> std::collections::BTreeSet<String> {
    let mut roles = std::collections::BTreeSet::new();
    for case in cases {
        let files = ["setup.sql", "from.sql", "to.sql"].map(|f| case.dir.join(f));
        for text in files.iter().filter_map(|f| std::fs::read_to_string(f).ok()) {
            let upper = text.to_ascii_uppercase();
            for (at, _) in upper.match_indices("CREATE ROLE ") {
                let rest = &text[at + "CREATE ROLE ".len()..];
                let name = match rest.strip_prefix('"') {
                    Some(quoted) => quoted.split('"').next().unwrap_or_default().to_string(),
                    None => rest
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or_default()
                        .to_lowercase(),
                };
                if !name.is_empty() {
                    roles.insert(name);
                }
            }
        }
    }
    roles
}

/// One oracle of a corpus run: the label its summary line carries and its known-failures file.
pub struct Verdicts<'a> {
    pub label: &'a str,
    pub known_failures_file: &'a str,
}

/// Run `check` over every runnable case (three at a time), then [`report`] against the
/// known-failures file. `check` returns the case's result and whether it is managed-only.
pub async fn run_corpus<F, Fut>(label: &str, index_file: &str, known_failures_file: &str, check: F)
where
    F: Fn(&'static Case) -> Fut,
    Fut: std::future::Future<Output = (Result<(), String>, bool)>,
{
    let suites = [Verdicts {
        label,
        known_failures_file,
    }];
    run_corpus_judged(index_file, &suites, |case| {
        let run = check(case);
        async move {
            let (result, managed_only) = run.await;
            (vec![result], managed_only)
        }
    })
    .await;
}

/// A case's name, one result per oracle, and whether it is managed-only.
type Judged = (String, Vec<Result<(), String>>, bool);

/// Like [`run_corpus`] for several oracles judged from one build of each case: `check`
/// returns one result per entry of `suites`, in order, and each is reported against its own
/// known failures. Every summary is printed before the first unexpected failure panics.
pub async fn run_corpus_judged<F, Fut>(index_file: &str, suites: &[Verdicts<'_>], check: F)
where
    F: Fn(&'static Case) -> Fut,
    Fut: std::future::Future<Output = (Vec<Result<(), String>>, bool)>,
{
    use futures_util::stream::{self, StreamExt};
    let admin =
        zdm::connect::ConnectionTarget::parse(Some(&crate::common::server_conninfo("postgres")))
            .expect("conninfo")
            .connect()
            .await
            .expect("harness cluster reachable");
    let major = server_major(&admin).await;
    let cases: &'static [Case] = Box::leak(cases_on(index_file, major).into_boxed_slice());
    create_shared_roles(cases).await;
    let skipped: Vec<(String, String)> = cases
        .iter()
        .filter_map(|c| c.skip.clone().map(|s| (c.name.clone(), s)))
        .collect();
    let judged: Vec<Judged> = stream::iter(cases.iter().filter(|c| c.skip.is_none()))
        .map(|case| {
            let run = check(case);
            async move {
                let (results, managed_only) = run.await;
                assert_eq!(results.len(), suites.len(), "one result per oracle");
                (case.name.clone(), results, managed_only)
            }
        })
        .buffer_unordered(3)
        .collect()
        .await;
    let mut panics = Vec::new();
    for (i, suite) in suites.iter().enumerate() {
        let outcomes: Vec<Outcome> = judged
            .iter()
            .map(|(name, results, managed_only)| Outcome {
                name: name.clone(),
                result: results[i].clone(),
                managed_only: *managed_only,
            })
            .collect();
        let known = known_failures(suite.known_failures_file, major);
        if let Err(panic) = std::panic::catch_unwind(|| {
            report(suite.label, &outcomes, &skipped, &known);
        }) {
            panics.push(panic);
        }
    }
    if let Some(first) = panics.into_iter().next() {
        std::panic::resume_unwind(first);
    }
}
