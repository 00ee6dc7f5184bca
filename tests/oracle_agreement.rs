//! The catalog oracle (`common::catalog_dump`) against the pg_dump oracle, over the whole
//! conformance corpus, on a server the installed pg_dump can read. For every case the
//! databases built from `from.sql` and from `to.sql` are compared by both oracles:
//!
//! - what pg_dump finds different, the catalog picture must find different too (otherwise
//!   the catalog oracle would pass migrations on newer servers that pg_dump would fail);
//! - a database built twice from the same file is equal to itself by both (no OIDs, no
//!   order of creation leaks into either picture);
//! - where only the catalog picture sees a difference, the case is printed with the lines
//!   that differ, so the report says where the two disagree and why.

mod common;
#[allow(dead_code)]
mod conformance;

use common::catalog_dump::catalog_dump;
use conformance::{pg_dump_major, pg_dump_normalized, server_major, Case};
use futures_util::stream::{self, StreamExt};

/// What the two oracles said of one case.
struct Verdict {
    name: String,
    /// pg_dump and the catalog picture: does from.sql's database differ from to.sql's?
    pg_dump_differs: bool,
    catalog_differs: bool,
    /// The catalog picture's differing lines, when only it sees a difference.
    catalog_only: Vec<String>,
    /// Either oracle finds a database unequal to a second build of the same file.
    unstable: Option<String>,
}

struct Pictures {
    pg_dump: String,
    catalog: String,
}

async fn pictures_of(sql: &str) -> Result<Pictures, String> {
    let db = common::test_db().await;
    let result = async {
        db.client
            .batch_execute(sql)
            .await
            .map_err(|e| zdm::apply::server_message(&e))?;
        let catalog = catalog_dump(&db.client)
            .await
            .unwrap_or_else(|e| panic!("the catalog picture fails: {e}"));
        Ok(Pictures {
            pg_dump: pg_dump_normalized(&db.conninfo).await,
            catalog,
        })
    }
    .await;
    db.drop().await;
    result
}

fn changed_lines(a: &str, b: &str) -> Vec<String> {
    similar::TextDiff::from_lines(a, b)
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| format!("{}{}", c.tag(), c.value().trim_end()))
        .collect()
}

/// None when a side does not load (the convergence test reports those).
async fn judge(case: &Case) -> Option<Verdict> {
    let from = pictures_of(&case.sql("from.sql")).await.ok()?;
    let to = pictures_of(&case.sql("to.sql")).await.ok()?;
    let again = pictures_of(&case.sql("to.sql")).await.ok()?;
    let unstable = [
        ("pg_dump", &to.pg_dump, &again.pg_dump),
        ("catalog", &to.catalog, &again.catalog),
    ]
    .iter()
    .find(|(_, a, b)| a != b)
    .map(|(oracle, a, b)| format!("{oracle}: {:?}", changed_lines(a, b)));
    let pg_dump_differs = from.pg_dump != to.pg_dump;
    let catalog_differs = from.catalog != to.catalog;
    Some(Verdict {
        name: case.name.clone(),
        pg_dump_differs,
        catalog_differs,
        catalog_only: if catalog_differs && !pg_dump_differs {
            changed_lines(&from.catalog, &to.catalog)
        } else {
            Vec::new()
        },
        unstable,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_oracle_sees_what_pg_dump_sees() {
    let probe = common::test_db().await;
    let server = server_major(&probe.client).await;
    probe.drop().await;
    if server > pg_dump_major() {
        eprintln!(
            "skipped: pg_dump {} cannot read server {server}",
            pg_dump_major()
        );
        return;
    }
    let mut cases = conformance::cases("cases.tsv");
    cases.extend(conformance::cases("schemas.tsv"));
    let cases: &'static [Case] = Box::leak(cases.into_boxed_slice());
    conformance::create_shared_roles(cases).await;
    let verdicts: Vec<Verdict> = stream::iter(cases.iter().filter(|c| c.skip.is_none()))
        .map(judge)
        .buffer_unordered(3)
        .filter_map(|v| async move { v })
        .collect()
        .await;

    let missed: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.pg_dump_differs && !v.catalog_differs)
        .map(|v| v.name.as_str())
        .collect();
    let unstable: Vec<String> = verdicts
        .iter()
        .filter_map(|v| v.unstable.as_ref().map(|u| format!("{}: {u}", v.name)))
        .collect();
    for v in verdicts.iter().filter(|v| !v.catalog_only.is_empty()) {
        eprintln!(
            "only the catalog oracle sees a difference in {}:\n  {}",
            v.name,
            v.catalog_only.join("\n  ")
        );
    }
    let both = verdicts
        .iter()
        .filter(|v| v.pg_dump_differs && v.catalog_differs)
        .count();
    let neither = verdicts
        .iter()
        .filter(|v| !v.pg_dump_differs && !v.catalog_differs)
        .count();
    let catalog_only = verdicts
        .iter()
        .filter(|v| !v.catalog_only.is_empty())
        .count();
    println!(
        "oracle agreement over {} cases: {both} different by both, {neither} equal by both, \
         {catalog_only} different by the catalog only, {} different by pg_dump only, {} unstable",
        verdicts.len(),
        missed.len(),
        unstable.len()
    );
    assert!(
        missed.is_empty(),
        "pg_dump sees a difference the catalog oracle misses: {missed:?}"
    );
    assert!(
        unstable.is_empty(),
        "a picture differs between two builds of one file:\n{}",
        unstable.join("\n")
    );
    assert!(both > 0, "no case differed at all: the corpus did not run");
}

/// Two ways to build a schema, and whether a schema oracle must call them equal.
struct Pair {
    name: &'static str,
    a: &'static [&'static str],
    b: &'static [&'static str],
    equal: bool,
}

const fn differ(
    name: &'static str,
    a: &'static [&'static str],
    b: &'static [&'static str],
) -> Pair {
    Pair {
        name,
        a,
        b,
        equal: false,
    }
}

const fn same(name: &'static str, a: &'static [&'static str], b: &'static [&'static str]) -> Pair {
    Pair {
        name,
        a,
        b,
        equal: true,
    }
}

const T: &str = "CREATE TABLE t (id bigint PRIMARY KEY, a integer, b text)";
const PARTS: &str = "CREATE TABLE p (id bigint, k integer) PARTITION BY RANGE (k)";
const F: &str = "CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x + 1'";
const TRIGGER_FN: &str =
    "CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'";
const TRIGGER: &str = "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf()";

/// One pair per thing the catalog picture must see (every attribute the brief lists), and
/// the differences of construction it must not see.
const PAIRS: &[Pair] = &[
    differ("column default", &[T, "ALTER TABLE t ALTER a SET DEFAULT 1"], &[T, "ALTER TABLE t ALTER a SET DEFAULT 2"]),
    differ("not null", &[T], &[T, "ALTER TABLE t ALTER a SET NOT NULL"]),
    differ("type modifier", &["CREATE TABLE t (a varchar(10))"], &["CREATE TABLE t (a varchar(20))"]),
    differ("collation", &["CREATE TABLE t (a text)"], &["CREATE TABLE t (a text COLLATE \"C\")"]),
    differ("identity kind", &["CREATE TABLE t (a int GENERATED ALWAYS AS IDENTITY)"], &["CREATE TABLE t (a int GENERATED BY DEFAULT AS IDENTITY)"]),
    differ("identity options", &["CREATE TABLE t (a int GENERATED ALWAYS AS IDENTITY)"], &["CREATE TABLE t (a int GENERATED ALWAYS AS IDENTITY (START 5))"]),
    differ("generated expression", &["CREATE TABLE t (a int, g int GENERATED ALWAYS AS (a * 2) STORED)"], &["CREATE TABLE t (a int, g int GENERATED ALWAYS AS (a * 3) STORED)"]),
    differ("storage", &[T], &[T, "ALTER TABLE t ALTER b SET STORAGE EXTERNAL"]),
    differ("statistics target", &[T], &[T, "ALTER TABLE t ALTER a SET STATISTICS 500"]),
    differ("partition bound", &[PARTS, "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (10)"], &[PARTS, "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (20)"]),
    differ("partition key", &[PARTS], &["CREATE TABLE p (id bigint, k integer) PARTITION BY LIST (k)"]),
    differ("inheritance", &["CREATE TABLE base (x int)", "CREATE TABLE t (x int)"], &["CREATE TABLE base (x int)", "CREATE TABLE t () INHERITS (base)"]),
    differ("unlogged", &[T], &["CREATE UNLOGGED TABLE t (id bigint PRIMARY KEY, a integer, b text)"]),
    differ("table options", &[T], &[T, "ALTER TABLE t SET (fillfactor = 70)"]),
    differ("replica identity full", &[T], &[T, "ALTER TABLE t REPLICA IDENTITY FULL"]),
    differ("replica identity index", &[T, "CREATE UNIQUE INDEX t_a ON t (a)", "ALTER TABLE t ALTER a SET NOT NULL"], &[T, "CREATE UNIQUE INDEX t_a ON t (a)", "ALTER TABLE t ALTER a SET NOT NULL", "ALTER TABLE t REPLICA IDENTITY USING INDEX t_a"]),
    differ("row security", &[T], &[T, "ALTER TABLE t ENABLE ROW LEVEL SECURITY"]),
    differ("forced row security", &[T, "ALTER TABLE t ENABLE ROW LEVEL SECURITY"], &[T, "ALTER TABLE t ENABLE ROW LEVEL SECURITY", "ALTER TABLE t FORCE ROW LEVEL SECURITY"]),
    differ("policy expression", &[T, "CREATE POLICY pol ON t USING (a > 0)"], &[T, "CREATE POLICY pol ON t USING (a > 1)"]),
    differ("policy roles", &[T, "CREATE POLICY pol ON t USING (a > 0)"], &[T, "CREATE POLICY pol ON t TO oracle_reader USING (a > 0)"]),
    differ("policy command", &[T, "CREATE POLICY pol ON t USING (a > 0)"], &[T, "CREATE POLICY pol ON t FOR SELECT USING (a > 0)"]),
    differ("table grant", &[T], &[T, "GRANT SELECT ON t TO oracle_reader"]),
    differ("column grant", &[T], &[T, "GRANT SELECT (a) ON t TO oracle_reader"]),
    differ("schema grant", &["CREATE SCHEMA s"], &["CREATE SCHEMA s", "GRANT USAGE ON SCHEMA s TO oracle_reader"]),
    differ("function privilege", &[F], &[F, "REVOKE EXECUTE ON FUNCTION f(integer) FROM PUBLIC"]),
    differ("type privilege", &["CREATE TYPE e AS ENUM ('a')"], &["CREATE TYPE e AS ENUM ('a')", "REVOKE USAGE ON TYPE e FROM PUBLIC"]),
    differ("default privileges", &[T], &[T, "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO oracle_reader"]),
    differ("table owner", &[T], &[T, "ALTER TABLE t OWNER TO oracle_reader"]),
    differ("column comment", &[T, "COMMENT ON COLUMN t.a IS 'one'"], &[T, "COMMENT ON COLUMN t.a IS 'two'"]),
    differ("constraint comment", &[T], &[T, "COMMENT ON CONSTRAINT t_pkey ON t IS 'key'"]),
    differ("schema comment", &["CREATE SCHEMA s"], &["CREATE SCHEMA s", "COMMENT ON SCHEMA s IS 'mine'"]),
    differ("check constraint", &[T, "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)"], &[T, "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 1)"]),
    differ("constraint validity", &[T, "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)"], &[T, "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID"]),
    differ("deferrable", &[T, "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a)"], &[T, "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a) DEFERRABLE"]),
    differ("foreign key action", &[T, "CREATE TABLE c (t_id bigint REFERENCES t)"], &[T, "CREATE TABLE c (t_id bigint REFERENCES t ON DELETE CASCADE)"]),
    differ("constraint name", &[T, "ALTER TABLE t ADD CONSTRAINT c1 CHECK (a > 0)"], &[T, "ALTER TABLE t ADD CONSTRAINT c2 CHECK (a > 0)"]),
    differ("partial index", &[T, "CREATE INDEX i ON t (a) WHERE a > 0"], &[T, "CREATE INDEX i ON t (a) WHERE a > 1"]),
    differ("index method", &[T, "CREATE INDEX i ON t (a)"], &[T, "CREATE INDEX i ON t USING hash (a)"]),
    differ("index include", &[T, "CREATE INDEX i ON t (a)"], &[T, "CREATE INDEX i ON t (a) INCLUDE (b)"]),
    differ("invalid index", &[T, "CREATE INDEX i ON t (a)"], &[T, "CREATE INDEX i ON t (a)", "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'i'::regclass"]),
    differ("cluster on", &[T], &[T, "ALTER TABLE t CLUSTER ON t_pkey"]),
    differ("sequence options", &["CREATE SEQUENCE s"], &["CREATE SEQUENCE s INCREMENT 5 CACHE 10"]),
    differ("sequence type", &["CREATE SEQUENCE s AS integer"], &["CREATE SEQUENCE s AS bigint"]),
    differ("sequence owned by", &[T, "CREATE SEQUENCE s"], &[T, "CREATE SEQUENCE s OWNED BY t.a"]),
    differ("enum value order", &["CREATE TYPE e AS ENUM ('a', 'b')"], &["CREATE TYPE e AS ENUM ('b', 'a')"]),
    differ("enum value added", &["CREATE TYPE e AS ENUM ('a')"], &["CREATE TYPE e AS ENUM ('a')", "ALTER TYPE e ADD VALUE 'b'"]),
    differ("domain check", &["CREATE DOMAIN d AS int CHECK (VALUE > 0)"], &["CREATE DOMAIN d AS int CHECK (VALUE > 1)"]),
    differ("domain default", &["CREATE DOMAIN d AS int DEFAULT 1"], &["CREATE DOMAIN d AS int DEFAULT 2"]),
    differ("domain not null", &["CREATE DOMAIN d AS int"], &["CREATE DOMAIN d AS int NOT NULL"]),
    differ("composite field order", &["CREATE TYPE c AS (x int, y text)"], &["CREATE TYPE c AS (y text, x int)"]),
    differ("range subtype", &["CREATE TYPE r AS RANGE (subtype = int4)"], &["CREATE TYPE r AS RANGE (subtype = int8)"]),
    differ("view definition", &[T, "CREATE VIEW v AS SELECT a FROM t"], &[T, "CREATE VIEW v AS SELECT a FROM t WHERE a > 0"]),
    differ("view check option", &[T, "CREATE VIEW v AS SELECT a FROM t"], &[T, "CREATE VIEW v AS SELECT a FROM t WITH CHECK OPTION"]),
    differ("materialized view", &[T, "CREATE MATERIALIZED VIEW m AS SELECT a FROM t"], &[T, "CREATE MATERIALIZED VIEW m AS SELECT b FROM t"]),
    differ("function body", &[F], &["CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x + 2'"]),
    differ("function volatility", &[F], &["CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT x + 1'"]),
    differ("function setting", &[F], &["CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql SET search_path = pg_catalog AS 'SELECT x + 1'"]),
    differ("aggregate", &["CREATE AGGREGATE agg(integer) (SFUNC = int4pl, STYPE = integer)"], &["CREATE AGGREGATE agg(integer) (SFUNC = int4pl, STYPE = integer, INITCOND = '0')"]),
    differ("trigger timing", &[T, TRIGGER_FN, TRIGGER], &[T, TRIGGER_FN, "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf()"]),
    differ("trigger disabled", &[T, TRIGGER_FN, TRIGGER], &[T, TRIGGER_FN, TRIGGER, "ALTER TABLE t DISABLE TRIGGER tr"]),
    differ("rule", &[T], &[T, "CREATE RULE r AS ON DELETE TO t DO INSTEAD NOTHING"]),
    differ("statistics object", &[T], &[T, "CREATE STATISTICS st ON a, b FROM t"]),
    differ("cast", &[F], &[F, "CREATE DOMAIN d AS int", "CREATE CAST (d AS text) WITH INOUT"]),
    same("column order", &["CREATE TABLE t (id bigint PRIMARY KEY, a integer, b text)"], &["CREATE TABLE t (b text, a integer, id bigint PRIMARY KEY)"]),
    same("added column", &["CREATE TABLE t (id bigint PRIMARY KEY, a integer)", "ALTER TABLE t ADD COLUMN b text"], &[T]),
    same("dropped column", &["CREATE TABLE t (id bigint PRIMARY KEY, a integer, gone int, b text)", "ALTER TABLE t DROP COLUMN gone"], &[T]),
    same("statement order", &["CREATE TABLE x (i int)", "CREATE TABLE y (i int)"], &["CREATE TABLE y (i int)", "CREATE TABLE x (i int)"]),
    same("grant then revoke", &[T, "GRANT SELECT ON t TO oracle_reader", "REVOKE SELECT ON t FROM oracle_reader"], &[T]),
    same("validated later", &[T, "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", "ALTER TABLE t VALIDATE CONSTRAINT c"], &[T, "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)"]),
    same("serial spelt out", &["CREATE TABLE t (a serial)"], &["CREATE SEQUENCE t_a_seq AS integer", "CREATE TABLE t (a integer NOT NULL DEFAULT nextval('t_a_seq'))", "ALTER SEQUENCE t_a_seq OWNED BY t.a"]),
    same("zdm's own schema", &[T, "CREATE SCHEMA zdm", "CREATE TABLE zdm.ledger (x int)", "COMMENT ON SCHEMA zdm IS 'ledger'"], &[T]),
    same("unique index made into a constraint", &[T, "CREATE UNIQUE INDEX u ON t (a)", "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX u"], &[T, "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a)"]),
];

async fn build(statements: &[&str]) -> common::TestDb {
    let db = common::test_db().await;
    for statement in statements {
        db.exec(statement).await;
    }
    db
}

/// What is wrong with one pair: each oracle that calls it other than it is.
async fn judge_pair(pair: &Pair, with_pg_dump: bool) -> Vec<String> {
    let (a, b) = (build(pair.a).await, build(pair.b).await);
    let mut pictures = vec![(
        "the catalog picture",
        catalog_dump(&a.client).await.unwrap(),
        catalog_dump(&b.client).await.unwrap(),
    )];
    if with_pg_dump {
        pictures.push((
            "pg_dump",
            pg_dump_normalized(&a.conninfo).await,
            pg_dump_normalized(&b.conninfo).await,
        ));
    }
    a.drop().await;
    b.drop().await;
    pictures
        .into_iter()
        .filter(|(_, x, y)| (x == y) != pair.equal)
        .map(|(oracle, x, y)| {
            let verdict = if pair.equal { "different" } else { "equal" };
            format!(
                "{}: {oracle} says {verdict}: {:?}",
                pair.name,
                changed_lines(&x, &y)
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_picture_tells_apart_what_matters_only() {
    let admin = common::test_db().await;
    admin
        .exec("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'oracle_reader') THEN CREATE ROLE oracle_reader; END IF; END $$")
        .await;
    let with_pg_dump = server_major(&admin.client).await <= pg_dump_major();
    admin.drop().await;
    let wrong: Vec<String> = stream::iter(PAIRS)
        .map(|pair| judge_pair(pair, with_pg_dump))
        .buffer_unordered(4)
        .flat_map(stream::iter)
        .collect()
        .await;
    println!(
        "{} pairs, pg_dump {}",
        PAIRS.len(),
        if with_pg_dump {
            "compared too"
        } else {
            "cannot read this server"
        }
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
