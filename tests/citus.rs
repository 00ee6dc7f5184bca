//! Plans on a Citus coordinator: what Citus refuses on distributed tables is refused by zdm
//! before anything runs, and what Citus propagates is planned as usual.
//!
//! Citus cannot be installed here, so each case gives a plain PostgreSQL database the one
//! thing zdm reads from Citus: its metadata table `pg_catalog.pg_dist_partition` (created by
//! a superuser with `allow_system_table_mods`, with the columns zdm reads, in Citus's format:
//! `partkey` is a serialised Var naming the distribution column by `varattno`). The refusals
//! follow Citus's documentation of DDL on distributed tables.

mod cli_support;
mod common;

use cli_support::{apply_all, fingerprint_db, schema_dir, zdm_on};

const LIVE: &str = "
CREATE TABLE accounts (id bigint PRIMARY KEY, name text);
CREATE TABLE ads (account_id bigint NOT NULL, id bigint NOT NULL, title text,
                  PRIMARY KEY (account_id, id));
CREATE TABLE countries (code char(2) PRIMARY KEY, name text);
CREATE TABLE notes (id bigint PRIMARY KEY, body text);
INSERT INTO accounts VALUES (1, 'a');
INSERT INTO ads VALUES (1, 1, 't');
INSERT INTO countries VALUES ('fr', 'France');
SET allow_system_table_mods = on;
CREATE TABLE pg_catalog.pg_dist_partition (logicalrelid regclass, partmethod \"char\", partkey text);
RESET allow_system_table_mods;
INSERT INTO pg_catalog.pg_dist_partition VALUES
  ('public.accounts', 'h', '{VAR :varno 1 :varattno 1 :vartype 20 :vartypmod -1 :varcollid 0 :varlevelsup 0 :varnosyn 1 :varattnosyn 1 :location -1}'),
  ('public.ads', 'h', '{VAR :varno 1 :varattno 1 :vartype 20 :vartypmod -1 :varcollid 0 :varlevelsup 0 :varnosyn 1 :varattnosyn 1 :location -1}'),
  ('public.countries', 'n', NULL);
";

/// The live schema's files, with `change` applied by text substitution.
fn desired(replace: &str, with: &str, append: &str) -> String {
    let tables = LIVE.split("INSERT").next().unwrap();
    assert!(tables.contains(replace), "{replace}");
    format!("{}\n{append}", tables.replacen(replace, with, 1))
}

struct Case {
    name: &'static str,
    schema: String,
    /// `None`: planned and applied; `Some(text)`: refused with `text` in the message.
    refused: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "a column, a CHECK and an index on a distributed table are planned",
            schema: desired(
                "title text,",
                "title text, budget numeric CHECK (budget >= 0),",
                "CREATE INDEX ads_title ON ads (title);",
            ),
            refused: None,
        },
        Case {
            name: "retyping the distribution column",
            schema: desired("(id bigint PRIMARY KEY, name", "(id numeric PRIMARY KEY, name", ""),
            refused: Some("the type of its distribution column id would change"),
        },
        Case {
            name: "dropping the distribution column",
            schema: desired(
                "(account_id bigint NOT NULL, id bigint NOT NULL, title text,\n                  PRIMARY KEY (account_id, id))",
                "(id bigint NOT NULL PRIMARY KEY, title text)",
                "",
            ),
            refused: Some("distribution column account_id would be dropped"),
        },
        Case {
            name: "a unique constraint without the distribution column",
            schema: desired("title text,", "title text UNIQUE,", ""),
            refused: Some("ads_title_key would not include its distribution column account_id"),
        },
        Case {
            name: "a foreign key between distributed tables on their distribution columns",
            schema: desired(
                "PRIMARY KEY (account_id, id));",
                "PRIMARY KEY (account_id, id));\nALTER TABLE ads ADD CONSTRAINT ads_account FOREIGN KEY (account_id) REFERENCES accounts (id);",
                "",
            ),
            refused: None,
        },
        Case {
            name: "a foreign key between distributed tables off their distribution columns",
            schema: desired(
                "PRIMARY KEY (account_id, id));",
                "PRIMARY KEY (account_id, id));\nALTER TABLE ads ADD CONSTRAINT ads_by_id FOREIGN KEY (id) REFERENCES accounts (id);",
                "",
            ),
            refused: Some("foreign key ads_by_id to distributed table public.accounts"),
        },
        Case {
            name: "a local table referencing a distributed table",
            schema: desired(
                "(id bigint PRIMARY KEY, body text)",
                "(id bigint PRIMARY KEY, body text, account_id bigint REFERENCES accounts (id))",
                "",
            ),
            refused: Some("local table public.notes would reference it"),
        },
        Case {
            name: "a local table referencing a reference table",
            schema: desired(
                "(id bigint PRIMARY KEY, body text)",
                "(id bigint PRIMARY KEY, body text, country char(2) REFERENCES countries (code))",
                "",
            ),
            refused: None,
        },
        Case {
            name: "a distributed table that zdm would re-create (partitioned now)",
            schema: desired(
                "(id bigint PRIMARY KEY, name text);",
                "(id bigint PRIMARY KEY, name text) PARTITION BY HASH (id);\nCREATE TABLE accounts_0 PARTITION OF accounts FOR VALUES WITH (MODULUS 1, REMAINDER 0);",
                "",
            ),
            refused: Some("would not distribute"),
        },
    ]
}

#[tokio::test]
async fn what_citus_refuses_is_refused_before_anything_runs() {
    let mut failures = Vec::new();
    for case in cases() {
        let db = common::test_db().await;
        db.exec(LIVE).await;
        let before = fingerprint_db(&db.client).await;
        let dir = schema_dir(&case.schema);
        let plan = zdm_on(&["plan"], &db.conninfo, dir.path(), &[]).await;
        let apply = apply_all(&db.conninfo, dir.path()).await;
        let after = fingerprint_db(&db.client).await;
        let outcome = match case.refused {
            Some(expected) => {
                let said = |run: &cli_support::Run| run.code == 2 && run.stderr.contains(expected);
                if !said(&plan) || !said(&apply) {
                    Err(format!(
                        "expected a refusal with {expected:?}\nplan: {}\napply: {}",
                        plan.text(),
                        apply.text()
                    ))
                } else if before != after {
                    Err("the refused apply changed the database".to_string())
                } else {
                    Ok(())
                }
            }
            None if plan.code != 1 || apply.code != 0 => Err(format!(
                "expected a plan with steps, applied\nplan: {}\napply: {}",
                plan.text(),
                apply.text()
            )),
            None => Ok(()),
        };
        if let Err(e) = outcome {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
