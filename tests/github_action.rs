//! The GitHub Action (`action.yml`, `scripts/action/*.sh`) run the way a runner runs it: each
//! script through `bash` with the `INPUT_*` variables action.yml sets, `GITHUB_OUTPUT` and
//! `GITHUB_STEP_SUMMARY` pointing at files, the built `zdm` on `PATH`, against a real database
//! of the harness cluster. The GitHub API and the release downloads are a local HTTP server
//! that records what it was sent. The YAML files are parsed and their structure checked.

mod cli_support;
mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cli_support::{column_exists, dev_url, repo_path, v1_db};

// ---------------------------------------------------------------------------------------------
// Running a script as the runner does

/// What a script run left: its exit status and streams, the outputs it wrote to
/// `GITHUB_OUTPUT`, the job summary and the directories it added to `GITHUB_PATH`.
struct ScriptRun {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
    path_additions: Vec<String>,
    /// The runner's temp directory (kept alive for the files the outputs name).
    _temp: tempfile::TempDir,
}

impl ScriptRun {
    fn text(&self) -> String {
        format!(
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- outputs ---\n{:#?}\n--- summary ---\n{}",
            self.code, self.stdout, self.stderr, self.outputs, self.summary
        )
    }

    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .unwrap_or_else(|| panic!("no output {name}\n{}", self.text()))
    }
}

/// `GITHUB_OUTPUT`'s two forms: `name=value` and `name<<DELIMITER` ... `DELIMITER`.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            outputs.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_string(), value.to_string());
        } else {
            panic!("GITHUB_OUTPUT line in neither form: {line:?}");
        }
    }
    outputs
}

/// The directory of the built `zdm`, first on `PATH` as after the action's install step.
fn zdm_bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_zdm"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Run `scripts/action/<name>` with `bash`, in the repository's root (the job's workspace, a
/// checkout of this repository), with a runner's environment and nothing else: no connection
/// settings leak in from the test's own environment.
async fn run_script(name: &str, env: &[(&str, &str)]) -> ScriptRun {
    run_script_with_path(name, env, &zdm_bin_dir()).await
}

async fn run_script_with_path(name: &str, env: &[(&str, &str)], first_on_path: &Path) -> ScriptRun {
    let temp = tempfile::tempdir().unwrap();
    let output_file = temp.path().join("github_output");
    let summary_file = temp.path().join("step_summary");
    let path_file = temp.path().join("github_path");
    for file in [&output_file, &summary_file, &path_file] {
        std::fs::write(file, "").unwrap();
    }
    let runner_temp = temp.path().join("runner_temp");
    std::fs::create_dir(&runner_temp).unwrap();
    let path = format!(
        "{}:{}",
        first_on_path.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut command = tokio::process::Command::new("bash");
    command
        .arg(repo_path(&format!("scripts/action/{name}")))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", path)
        .env(
            "HOME",
            std::env::var("HOME").unwrap_or_else(|_| "/root".into()),
        )
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("GITHUB_PATH", &path_file)
        .env("GITHUB_ACTION_PATH", env!("CARGO_MANIFEST_DIR"))
        .env("GITHUB_WORKSPACE", env!("CARGO_MANIFEST_DIR"))
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("RUNNER_TEMP", &runner_temp)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null());
    // The harness's PostgreSQL binaries, for the embedded shadow.
    if let Ok(bin) = std::env::var("ZDM_PG_BIN") {
        command.env("ZDM_PG_BIN", bin);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().await.expect("bash runs");
    ScriptRun {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        outputs: parse_outputs(&std::fs::read_to_string(&output_file).unwrap()),
        summary: std::fs::read_to_string(&summary_file).unwrap(),
        path_additions: std::fs::read_to_string(&path_file)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
        _temp: temp,
    }
}

fn refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A connection that refuses every write: what a pull request's plan job should get.
fn read_only(conninfo: &str) -> String {
    format!("{conninfo} options='-c default_transaction_read_only=on'")
}

// ---------------------------------------------------------------------------------------------
// A local HTTP server standing in for the GitHub API and release downloads

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    /// Header names lowercased.
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Request {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {:?}", self.body))
    }
}

/// Serves every connection (one request each, `Connection: close`) with `respond`'s status
/// and body, and records the requests, until dropped.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(respond: impl Fn(&Request) -> (u16, Vec<u8>) + Send + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopping) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let stream = match listener.accept() {
                    Ok((stream, _)) => stream,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        continue;
                    }
                    Err(e) => panic!("test server: {e}"),
                };
                stream.set_nonblocking(false).unwrap();
                let request = serve_one(stream, &respond);
                seen.lock().unwrap().push(request);
            }
        });
        Server {
            url,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve_one(
    mut stream: std::net::TcpStream,
    respond: &impl Fn(&Request) -> (u16, Vec<u8>),
) -> Request {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').expect("a header line");
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    if headers.get("expect").map(String::as_str) == Some("100-continue") {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
    }
    let length: usize = headers
        .get("content-length")
        .map(|l| l.parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let request = Request {
        method,
        path,
        headers,
        body,
    };
    let (status, response) = respond(&request);
    let reason = if status < 400 { "OK" } else { "Error" };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
        response.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&response).unwrap();
    request
}

// ---------------------------------------------------------------------------------------------
// The scripts themselves

const SCRIPTS: [&str; 5] = ["lib.sh", "install.sh", "plan.sh", "comment.sh", "apply.sh"];

#[test]
fn every_script_parses_and_is_strict() {
    let dir = repo_path("scripts/action");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut expected: Vec<String> = SCRIPTS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(
        found, expected,
        "scripts/action/ holds exactly the action's scripts"
    );
    for name in SCRIPTS {
        let path = dir.join(name);
        let check = std::process::Command::new("bash")
            .arg("-n")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "bash -n {name}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        if name == "lib.sh" {
            continue; // sourced by the others, which set the options
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("#!/usr/bin/env bash\n"), "{name}: shebang");
        assert!(
            text.lines().any(|l| l == "set -euo pipefail"),
            "{name}: set -euo pipefail"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "{name} is executable");
    }
}

/// The pull request's job on the bundled example: a read-only connection to a database at
/// `examples/shop/v1`, the desired `schema/`, the embedded shadow (as on a runner, no
/// `dev-url`). The hazards it has (data-loss in contract, may-fail in validate) are allowed.
#[tokio::test]
async fn plan_writes_the_markdown_summary_annotations_and_outputs() {
    let db = v1_db().await;
    let url = read_only(&db.conninfo);
    let run = run_script(
        "plan.sh",
        &[
            ("INPUT_DATABASE_URL", &url),
            ("INPUT_SCHEMA", "schema"),
            ("INPUT_ALLOW_HAZARDS", "data-loss, may-fail"),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(run.output("changes"), "true");
    assert_eq!(run.output("hazards"), "data-loss,may-fail");
    assert_eq!(run.output("hazard-count"), "5", "{}", run.text());
    assert_eq!(run.output("disallowed-hazards"), "");

    // The summary is the markdown comment: its header, the phase table and the steps.
    let summary = &run.summary;
    for expected in [
        "## zdm plan",
        "| expand | 6 | 0 |",
        "add column org\\_id to public.orders",
        "build index idx\\_orders\\_customer\\_date on public.orders concurrently",
        "CREATE INDEX CONCURRENTLY idx_orders_customer_date",
        "fill public.users.display\\_name",
        "drop column first\\_name from public.users",
        "> [!WARNING]",
        "Hazards allowed by `allow-hazards`: data-loss,may-fail.",
    ] {
        assert!(
            summary.contains(expected),
            "summary lacks {expected:?}\n{}",
            run.text()
        );
    }
    // The comment step posts the same text.
    let markdown = std::fs::read_to_string(run.output("markdown-file")).unwrap();
    assert!(summary.starts_with(&markdown), "{}", run.text());

    // The saved plan is zdm's JSON with the steps the summary lists.
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.output("plan-file")).unwrap()).unwrap();
    assert_eq!(plan["format_version"], 1);
    let steps = plan["steps"].as_array().unwrap();
    assert!(
        summary.contains(&format!("{} step(s)", steps.len())),
        "{}",
        run.text()
    );

    // Annotations on the schema files for the runner to read from stdout.
    assert!(
        run.stdout
            .contains("::warning file=schema/users.sql,line=2,title=zdm hazard data-loss::drop column first_name"),
        "{}",
        run.text()
    );
    assert!(
        run.stdout.contains("::notice title=zdm plan::"),
        "{}",
        run.text()
    );
    assert!(!run.stdout.contains("::error"), "{}", run.text());

    // Planning changed nothing.
    assert!(!column_exists(&db, "orders", "org_id").await);
}

#[tokio::test]
async fn plan_fails_on_a_hazard_that_is_not_allowed() {
    let db = v1_db().await;
    let url = read_only(&db.conninfo);
    let dev = dev_url();
    let base = [
        ("INPUT_DATABASE_URL", url.as_str()),
        ("INPUT_DEV_URL", dev.as_str()),
    ];

    // may-fail allowed, data-loss not: the step fails, saying which.
    let run = run_script(
        "plan.sh",
        &[base[0], base[1], ("INPUT_ALLOW_HAZARDS", "may-fail")],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert_eq!(run.output("changes"), "true");
    assert_eq!(run.output("hazards"), "data-loss,may-fail");
    assert_eq!(run.output("disallowed-hazards"), "data-loss");
    assert!(
        run.stdout.contains(
            "::error title=zdm plan::the plan has hazards that are not allowed: data-loss;"
        ),
        "{}",
        run.text()
    );
    assert!(
        run.summary
            .contains("> Hazards not allowed by `allow-hazards`: data-loss."),
        "{}",
        run.text()
    );
    // The comment still has something to post.
    assert!(Path::new(run.output("markdown-file")).is_file());

    // Nothing allowed: both kinds are named.
    let run = run_script("plan.sh", &base).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert_eq!(run.output("disallowed-hazards"), "data-loss,may-fail");

    // `all` allows every kind.
    let run = run_script(
        "plan.sh",
        &[base[0], base[1], ("INPUT_ALLOW_HAZARDS", "all")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(run.output("disallowed-hazards"), "");

    // A misspelt kind is an error, not a silent "nothing allowed".
    let run = run_script(
        "plan.sh",
        &[base[0], base[1], ("INPUT_ALLOW_HAZARDS", "data-los")],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stdout
            .contains("::error title=zdm plan::allow-hazards: unknown hazard kind 'data-los'"),
        "{}",
        run.text()
    );
}

#[tokio::test]
async fn plan_on_a_database_in_step_reports_no_changes() {
    let sql = "CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL);\n";
    let db = common::test_db().await;
    db.exec(sql).await;
    let schema = cli_support::schema_dir(sql);
    let schema_path = schema.path().display().to_string();
    let url = read_only(&db.conninfo);
    let dev = dev_url();
    let run = run_script(
        "plan.sh",
        &[
            ("INPUT_DATABASE_URL", &url),
            ("INPUT_DEV_URL", &dev),
            ("INPUT_SCHEMA", &schema_path),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(run.output("changes"), "false");
    assert_eq!(run.output("hazards"), "");
    assert_eq!(run.output("hazard-count"), "0");
    assert!(run.summary.contains("no changes"), "{}", run.text());
}

#[tokio::test]
async fn plan_errors_are_annotated_and_fail_the_step() {
    let db = common::test_db().await;
    let dev = dev_url();
    let schema = cli_support::schema_dir("CREATE TABLE t (id int PRIMARY KEY,);\n");
    let schema_path = schema.path().display().to_string();
    let run = run_script(
        "plan.sh",
        &[
            ("INPUT_DATABASE_URL", &db.conninfo),
            ("INPUT_DEV_URL", &dev),
            ("INPUT_SCHEMA", &schema_path),
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stdout.contains("::error title=zdm plan::"),
        "{}",
        run.text()
    );
    assert!(run.summary.contains("## zdm plan failed"), "{}", run.text());
    assert!(!run.outputs.contains_key("markdown-file"), "{}", run.text());

    // No database URL at all: said so, before zdm runs.
    let run = run_script("plan.sh", &[("INPUT_DEV_URL", &dev)]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stdout.contains("the database-url input is empty"),
        "{}",
        run.text()
    );
}

/// The merge job: expand applied, the rest pending; contract is refused while they are.
#[tokio::test]
async fn apply_runs_the_phase_it_is_given() {
    let db = v1_db().await;
    let dev = dev_url();
    let owned = |phase: &str| {
        vec![
            ("INPUT_DATABASE_URL", db.conninfo.clone()),
            ("INPUT_DEV_URL", dev.clone()),
            ("INPUT_SCHEMA", "schema".to_string()),
            ("INPUT_PHASE", phase.to_string()),
        ]
    };
    let expand = owned("expand");
    let expand = refs(&expand);
    let run = run_script("apply.sh", &expand).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(run.output("phase"), "expand");
    assert_eq!(run.output("pending-phases"), "backfill,validate,contract");
    assert!(
        run.summary.contains("## zdm apply --phase expand"),
        "{}",
        run.text()
    );
    assert!(run.summary.contains("| expand | done |"), "{}", run.text());
    assert!(column_exists(&db, "orders", "org_id").await);
    assert!(column_exists(&db, "users", "display_name").await);
    assert!(
        column_exists(&db, "users", "first_name").await,
        "contract has not run"
    );
    let index: i64 = db
        .client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_orders_customer_date'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(index, 1);

    // Contract while backfill and validate are pending: refused, the columns stay.
    let contract = owned("contract");
    let mut contract = refs(&contract);
    contract.push(("INPUT_ALLOW_HAZARDS", "all"));
    contract.push(("INPUT_ARGS", "--skip-rollback-window"));
    let run = run_script("apply.sh", &contract).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stdout.contains("::error title=zdm apply::"),
        "{}",
        run.text()
    );
    assert!(column_exists(&db, "users", "first_name").await);

    // A phase that is not one.
    let mut bad: Vec<(&str, &str)> = expand.clone();
    bad.push(("INPUT_PHASE", "expnad"));
    let run = run_script("apply.sh", &bad).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stdout.contains("phase must be expand"),
        "{}",
        run.text()
    );
}

// ---------------------------------------------------------------------------------------------
// The pull-request comment

const PR_ENV: [(&str, &str); 2] = [("INPUT_GITHUB_TOKEN", "t0ken"), ("INPUT_PR_NUMBER", "7")];

fn markdown_fixture() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        "## zdm plan\n\n1 step(s): 1 expand; 0 hazard(s).\n\n```sql\nALTER TABLE t ADD COLUMN \"quoted\" text;\n```\n",
    )
    .unwrap();
    file
}

/// The pull-request environment `comment.sh` runs in, posting `file` to `server`.
fn comment_env<'a>(server: &'a Server, file: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut env = PR_ENV.to_vec();
    env.extend([
        ("INPUT_MARKDOWN_FILE", file),
        ("GITHUB_API_URL", server.url.as_str()),
    ]);
    env
}

/// Each request's method and path, in order.
fn shape(requests: &[Request]) -> Vec<(&str, &str)> {
    requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect()
}

#[tokio::test]
async fn comment_posts_one_comment_when_there_is_none() {
    let server = Server::start(|r| match r.method.as_str() {
        "GET" => (200, b"[{\"id\": 1, \"body\": \"LGTM\"}]".to_vec()),
        "POST" => (201, b"{\"id\": 42}".to_vec()),
        _ => (405, b"{}".to_vec()),
    });
    let markdown = markdown_fixture();
    let file = markdown.path().display().to_string();
    let env = comment_env(&server, &file);
    let run = run_script("comment.sh", &env).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(run.output("comment-action"), "created");
    assert_eq!(run.output("comment-id"), "42");

    let requests = server.requests();
    assert_eq!(
        shape(&requests),
        [
            (
                "GET",
                "/repos/acme/shop/issues/7/comments?per_page=100&page=1"
            ),
            ("POST", "/repos/acme/shop/issues/7/comments"),
        ]
    );
    for request in &requests {
        assert_eq!(request.headers["authorization"], "Bearer t0ken");
        assert_eq!(request.headers["accept"], "application/vnd.github+json");
    }
    let post = &requests[1];
    assert_eq!(post.headers["content-type"], "application/json");
    let body = post.json();
    let text = body["body"].as_str().unwrap();
    let markdown_text = std::fs::read_to_string(markdown.path()).unwrap();
    assert_eq!(text, format!("<!-- zdm-plan -->\n{markdown_text}"));
    assert_eq!(body.as_object().unwrap().len(), 1, "only `body`: {body}");
}

#[tokio::test]
async fn comment_updates_its_earlier_comment_instead_of_adding_one() {
    let server = Server::start(|r| match r.method.as_str() {
        "GET" => (
            200,
            serde_json::json!([
                {"id": 5, "body": "<!-- zdm-plan other-db -->\n## zdm plan\nanother job's"},
                {"id": 9, "body": "<!-- zdm-plan -->\n## zdm plan\nan older plan"},
            ])
            .to_string()
            .into_bytes(),
        ),
        "PATCH" => (200, b"{\"id\": 9}".to_vec()),
        _ => (405, b"{}".to_vec()),
    });
    let markdown = markdown_fixture();
    let file = markdown.path().display().to_string();
    let mut env = comment_env(&server, &file);
    let run = run_script("comment.sh", &env).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(run.output("comment-action"), "updated");
    assert_eq!(run.output("comment-id"), "9");
    let requests = server.requests();
    assert_eq!(
        shape(&requests),
        [
            (
                "GET",
                "/repos/acme/shop/issues/7/comments?per_page=100&page=1"
            ),
            ("PATCH", "/repos/acme/shop/issues/comments/9"),
        ]
    );
    assert!(requests[1].json()["body"]
        .as_str()
        .unwrap()
        .starts_with("<!-- zdm-plan -->\n## zdm plan\n\n1 step(s)"));

    // With a tag, the tagged comment is the one edited.
    env.push(("INPUT_COMMENT_TAG", "other-db"));
    let run = run_script("comment.sh", &env).await;
    assert_eq!(run.code, 0, "{}", run.text());
    let last = server.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("PATCH", "/repos/acme/shop/issues/comments/5")
    );
    assert!(last.json()["body"]
        .as_str()
        .unwrap()
        .starts_with("<!-- zdm-plan other-db -->\n"));
}

#[tokio::test]
async fn comment_fails_when_the_api_refuses() {
    let server = Server::start(|r| match r.method.as_str() {
        "GET" => (200, b"[]".to_vec()),
        _ => (
            403,
            b"{\"message\": \"Resource not accessible by integration\"}".to_vec(),
        ),
    });
    let markdown = markdown_fixture();
    let file = markdown.path().display().to_string();
    let env = comment_env(&server, &file);
    let run = run_script("comment.sh", &env).await;
    assert_ne!(run.code, 0, "{}", run.text());
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stdout.contains(
            "::error title=zdm comment::POST /repos/acme/shop/issues/7/comments: HTTP 403: {\"message\": \"Resource not accessible by integration\"}"
        ),
        "the API's message is shown\n{}",
        run.text()
    );
    assert!(
        !run.outputs.contains_key("comment-action"),
        "{}",
        run.text()
    );
}

#[tokio::test]
async fn comment_skips_cleanly_without_a_token() {
    let server = Server::start(|_| (500, b"{}".to_vec()));
    let markdown = markdown_fixture();
    let file = markdown.path().display().to_string();
    let run = run_script(
        "comment.sh",
        &[
            ("INPUT_PR_NUMBER", "7"),
            ("INPUT_MARKDOWN_FILE", &file),
            ("GITHUB_API_URL", &server.url),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(
        run.stdout.contains("no github-token; no comment posted"),
        "{}",
        run.text()
    );
    assert_eq!(run.output("comment-action"), "skipped");
    assert!(server.requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Installing a release binary

/// A release as release.yml uploads it: `zdm-vVERSION-TARGET.tar.gz` holding `zdm`, and its
/// `.sha256` (sha256sum's line). The binary is a stand-in script answering `--version`.
fn release_files(version: &str, target: &str) -> (String, Vec<u8>, String) {
    let dir = tempfile::tempdir().unwrap();
    let zdm = dir.path().join("zdm");
    std::fs::write(&zdm, format!("#!/bin/sh\necho \"zdm {version}\"\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&zdm, std::fs::Permissions::from_mode(0o755)).unwrap();
    let archive = format!("zdm-v{version}-{target}.tar.gz");
    let status = std::process::Command::new("tar")
        .args(["-czf", &archive, "zdm"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(dir.path().join(&archive)).unwrap();
    let sum = std::process::Command::new("sha256sum")
        .arg(&archive)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(sum.status.success());
    (archive, bytes, String::from_utf8(sum.stdout).unwrap())
}

fn release_server(archive: String, bytes: Vec<u8>, checksum: String) -> Server {
    let prefix = "/acme/zdm/releases/download/v9.9.9/";
    Server::start(move |r| {
        if r.path == format!("{prefix}{archive}") {
            (200, bytes.clone())
        } else if r.path == format!("{prefix}{archive}.sha256") {
            (200, checksum.clone().into_bytes())
        } else {
            (404, b"Not Found".to_vec())
        }
    })
}

const INSTALL_ENV: [(&str, &str); 5] = [
    ("INPUT_ZDM_VERSION", "v9.9.9"),
    ("INPUT_ZDM_REPOSITORY", "acme/zdm"),
    ("RUNNER_OS", "Linux"),
    ("RUNNER_ARCH", "X64"),
    // A shadow server is given, so no PostgreSQL is installed.
    ("INPUT_DEV_URL", "host=/nonexistent"),
];

#[tokio::test]
async fn install_downloads_the_release_and_checks_its_checksum() {
    let (archive, bytes, checksum) = release_files("9.9.9", "x86_64-unknown-linux-musl");
    let server = release_server(archive.clone(), bytes, checksum);
    let mut env = INSTALL_ENV.to_vec();
    env.push(("GITHUB_SERVER_URL", &server.url));
    // No zdm on PATH before the step: the one found afterwards is the downloaded one.
    let empty = tempfile::tempdir().unwrap();
    let run = run_script_with_path("install.sh", &env, empty.path()).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(run.output("zdm-version"), "9.9.9");
    let installed = PathBuf::from(run.output("zdm-path"));
    assert!(installed.is_file(), "{}", run.text());
    assert_eq!(
        run.path_additions,
        [installed.parent().unwrap().display().to_string()]
    );
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            format!("/acme/zdm/releases/download/v9.9.9/{archive}"),
            format!("/acme/zdm/releases/download/v9.9.9/{archive}.sha256"),
        ]
    );
}

#[tokio::test]
async fn install_refuses_an_archive_whose_checksum_differs() {
    let (archive, mut bytes, checksum) = release_files("9.9.9", "aarch64-unknown-linux-musl");
    // One byte of the archive changed on the way.
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let server = release_server(archive.clone(), bytes, checksum);
    let mut env = INSTALL_ENV.to_vec();
    env.push(("GITHUB_SERVER_URL", &server.url));
    env.push(("RUNNER_ARCH", "ARM64"));
    let empty = tempfile::tempdir().unwrap();
    let run = run_script_with_path("install.sh", &env, empty.path()).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stdout.contains(&format!(
            "::error title=zdm install::checksum mismatch for {archive}"
        )),
        "{}",
        run.text()
    );
    assert!(!run.outputs.contains_key("zdm-path"), "{}", run.text());
    assert!(run.path_additions.is_empty(), "{}", run.text());

    // A release that does not exist fails the step too.
    let mut env = INSTALL_ENV.to_vec();
    env.push(("GITHUB_SERVER_URL", &server.url));
    env.push(("INPUT_ZDM_VERSION", "1.0.0"));
    let run = run_script_with_path("install.sh", &env, empty.path()).await;
    assert_ne!(run.code, 0, "{}", run.text());
    assert!(run.path_additions.is_empty(), "{}", run.text());
}

#[tokio::test]
async fn install_uses_a_preinstalled_zdm() {
    let run = run_script(
        "install.sh",
        &[
            ("INPUT_ZDM_VERSION", "preinstalled"),
            ("INPUT_DEV_URL", "host=/nonexistent"),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(run.output("zdm-version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(run.path_additions, [zdm_bin_dir().display().to_string()]);
}

// ---------------------------------------------------------------------------------------------
// The YAML files

fn yaml(relative: &str) -> serde_yaml_ng::Value {
    let text =
        std::fs::read_to_string(repo_path(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{relative}: not YAML: {e}"))
}

fn key<'a>(value: &'a serde_yaml_ng::Value, name: &str, file: &str) -> &'a serde_yaml_ng::Value {
    value
        .get(name)
        .unwrap_or_else(|| panic!("{file}: no `{name}`"))
}

fn yml_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repo_path(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    files.sort();
    files
}

/// Every `inputs.NAME` in a text (an expression's reference to an input).
fn input_references(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("inputs.") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "inputs.".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            continue; // steps.x.inputs.y and the like
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        names.push(name);
    }
    names
}

#[test]
fn action_yml_is_a_composite_action_whose_steps_call_the_scripts() {
    let file = "action.yml";
    let action = yaml(file);
    assert!(key(&action, "name", file).is_string());
    assert!(key(&action, "description", file).is_string());
    let runs = key(&action, "runs", file);
    assert_eq!(key(runs, "using", file).as_str(), Some("composite"));
    let steps = key(runs, "steps", file)
        .as_sequence()
        .expect("steps is a list");
    assert!(!steps.is_empty());

    let inputs = key(&action, "inputs", file).as_mapping().unwrap();
    let declared: Vec<&str> = inputs.keys().map(|k| k.as_str().unwrap()).collect();
    for name in [
        "command",
        "database-url",
        "schema",
        "phase",
        "comment",
        "allow-hazards",
        "zdm-version",
        "github-token",
    ] {
        assert!(declared.contains(&name), "{file}: input {name} declared");
    }
    for (name, input) in inputs {
        assert!(
            input.get("description").is_some_and(|d| d.is_string()),
            "{file}: input {name:?} has a description"
        );
    }
    assert_eq!(
        inputs[&serde_yaml_ng::Value::from("schema")]["default"].as_str(),
        Some("schema")
    );

    let mut scripts_called = Vec::new();
    for step in steps {
        if let Some(run) = step.get("run") {
            assert!(
                step.get("shell").and_then(|s| s.as_str()) == Some("bash"),
                "{file}: a run step without `shell: bash`: {step:?}"
            );
            let run = run.as_str().unwrap();
            for name in SCRIPTS {
                if run.contains(&format!("$GITHUB_ACTION_PATH/scripts/action/{name}")) {
                    scripts_called.push(name);
                }
            }
        } else {
            assert!(
                step.get("uses").is_some(),
                "{file}: a step with neither run nor uses"
            );
        }
    }
    scripts_called.sort();
    assert_eq!(
        scripts_called,
        ["apply.sh", "comment.sh", "install.sh", "plan.sh"],
        "each script is called by one step"
    );

    // Every input an expression names is declared (the text, so `if:` and outputs count too).
    let text = std::fs::read_to_string(repo_path(file)).unwrap();
    let references = input_references(&text);
    assert!(references.len() > 10, "{references:?}");
    for name in references {
        assert!(
            declared.contains(&name.as_str()),
            "{file}: inputs.{name} is not declared"
        );
    }
    // Each output reads a step that has that id.
    let ids: Vec<&str> = steps
        .iter()
        .filter_map(|s| s.get("id").and_then(|i| i.as_str()))
        .collect();
    for (name, output) in key(&action, "outputs", file).as_mapping().unwrap() {
        let value = output["value"].as_str().unwrap();
        let id = value
            .strip_prefix("${{ steps.")
            .and_then(|v| v.split('.').next())
            .unwrap_or_else(|| panic!("{file}: output {name:?} = {value}"));
        assert!(ids.contains(&id), "{file}: output {name:?} reads step {id}");
    }
}

#[test]
fn workflows_have_triggers_and_jobs_with_steps() {
    let mut files = yml_files("examples/github");
    files.extend(yml_files(".github/workflows"));
    for expected in [
        "examples/github/zdm-plan.yml",
        "examples/github/zdm-apply.yml",
        ".github/workflows/release.yml",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} exists: {files:?}"
        );
    }
    for file in &files {
        let workflow = yaml(file);
        let on = key(&workflow, "on", file);
        assert!(!on.is_null(), "{file}: `on` is empty");
        let jobs = key(&workflow, "jobs", file).as_mapping().unwrap();
        assert!(!jobs.is_empty(), "{file}: no jobs");
        for (name, job) in jobs {
            assert!(
                job.get("runs-on").is_some(),
                "{file}: job {name:?} has runs-on"
            );
            let steps = job["steps"].as_sequence().expect("steps");
            for step in steps {
                assert!(
                    step.get("run").is_some() != step.get("uses").is_some(),
                    "{file}: job {name:?}: a step needs exactly one of run and uses: {step:?}"
                );
            }
        }
        // The workflows take the inputs the action declares.
        let action = yaml("action.yml");
        let declared = key(&action, "inputs", "action.yml").as_mapping().unwrap();
        for (_, job) in jobs {
            for step in job["steps"].as_sequence().unwrap() {
                let uses = step.get("uses").and_then(|u| u.as_str()).unwrap_or("");
                if uses == "./" || uses.ends_with("/zdm@v1") || uses.contains("zdm@") {
                    if let Some(with) = step.get("with").and_then(|w| w.as_mapping()) {
                        for (input, _) in with {
                            assert!(
                                declared.contains_key(input),
                                "{file}: the action has no input {input:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn the_plan_example_fails_on_hazards_and_the_apply_example_expands_on_push() {
    let file = "examples/github/zdm-plan.yml";
    let plan = yaml(file);
    assert!(key(&plan, "on", file).get("pull_request").is_some());
    let text = std::fs::read_to_string(repo_path(file)).unwrap();
    assert!(text.contains("command: plan"), "{file}");
    assert!(text.contains("pull-requests: write"), "{file}");

    let file = "examples/github/zdm-apply.yml";
    let apply = yaml(file);
    let on = key(&apply, "on", file);
    assert!(on.get("push").is_some(), "{file}: on push");
    let dispatch = on.get("workflow_dispatch").expect("workflow_dispatch");
    let options = dispatch["inputs"]["phase"]["options"]
        .as_sequence()
        .expect("a phase choice");
    let options: Vec<&str> = options.iter().map(|o| o.as_str().unwrap()).collect();
    assert_eq!(options, ["expand", "backfill", "validate", "contract"]);

    let file = ".github/workflows/release.yml";
    let release = yaml(file);
    let tags = key(&release, "on", file)["push"]["tags"]
        .as_sequence()
        .unwrap();
    assert_eq!(tags[0].as_str(), Some("v*"));
    let text = std::fs::read_to_string(repo_path(file)).unwrap();
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "aarch64-apple-darwin",
    ] {
        assert!(text.contains(target), "{file}: builds {target}");
    }
    assert!(text.contains(".sha256"), "{file}: checksums");
}

/// `cargo binstall` finds the archives release.yml makes: the same names.
#[test]
fn binstall_metadata_names_the_release_archives() {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo_path("Cargo.toml")).unwrap()).unwrap();
    let binstall = &manifest["package"]["metadata"]["binstall"];
    let url = binstall["pkg-url"].as_str().unwrap();
    assert!(
        url.ends_with("/releases/download/v{ version }/{ name }-v{ version }-{ target }.tar.gz"),
        "{url}"
    );
    assert_eq!(binstall["pkg-fmt"].as_str(), Some("tgz"));
    let release = std::fs::read_to_string(repo_path(".github/workflows/release.yml")).unwrap();
    assert!(
        release.contains("zdm-${{ github.ref_name }}-${{ matrix.target }}.tar.gz"),
        "release.yml names its archives as binstall expects"
    );
}
