//! Domains, case by case (see `kinds_support`): created before the columns and routines that
//! use them and dropped after, altered in place (default, NOT NULL, checks, comments), and a
//! new CHECK on a domain in use added `NOT VALID` in expand and validated in validate.

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use cli_support::{schema_dir, zdm_on};
use kinds_support::{run, run_all, Case};

static CASES: &[Case] = &[
    Case {
        name: "a new domain and a column of it",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY);",
        new: "CREATE DOMAIN public.posint AS integer DEFAULT 1 NOT NULL CHECK (VALUE > 0);
              CREATE TABLE public.t (id integer PRIMARY KEY, n public.posint);
              COMMENT ON DOMAIN public.posint IS 'positive';",
        hazards: &[],
        plan_has: &["CREATE DOMAIN public.posint AS integer DEFAULT 1 NOT NULL"],
    },
    Case {
        name: "a domain dropped after the column that uses it",
        old: "CREATE DOMAIN public.posint AS integer CHECK (VALUE > 0);
              CREATE TABLE public.t (id integer PRIMARY KEY, n public.posint);",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY);",
        hazards: &["data-loss"],
        plan_has: &["DROP COLUMN n", "DROP DOMAIN public.posint"],
    },
    Case {
        name: "default added, check re-defined, on an unused domain",
        old: "CREATE DOMAIN public.user_rating AS integer CHECK (VALUE >= 1 AND VALUE <= 5);",
        new: "CREATE DOMAIN public.user_rating AS integer DEFAULT 3
                  CHECK (VALUE >= 1 AND VALUE <= 10);",
        hazards: &[],
        plan_has: &[
            "ALTER DOMAIN public.user_rating SET DEFAULT 3",
            "DROP CONSTRAINT user_rating_check",
            "!VALIDATE",
        ],
    },
    Case {
        name: "a check dropped, NOT NULL and default dropped",
        old: "CREATE DOMAIN public.code AS text DEFAULT 'x' NOT NULL
                  CONSTRAINT short CHECK (length(VALUE) < 10);
              CREATE TABLE public.t (id integer PRIMARY KEY, c public.code);
              INSERT INTO public.t VALUES (1, 'abc');",
        new: "CREATE DOMAIN public.code AS text;
              CREATE TABLE public.t (id integer PRIMARY KEY, c public.code);",
        hazards: &[],
        plan_has: &["DROP NOT NULL", "DROP DEFAULT", "DROP CONSTRAINT short"],
    },
    Case {
        name: "NOT NULL set on a domain whose table has rows",
        old: "CREATE DOMAIN public.code AS text;
              CREATE TABLE public.t (id integer PRIMARY KEY, c public.code);
              INSERT INTO public.t VALUES (1, 'abc');",
        new: "CREATE DOMAIN public.code AS text NOT NULL;
              CREATE TABLE public.t (id integer PRIMARY KEY, c public.code);",
        hazards: &["long-lock"],
        plan_has: &["ALTER DOMAIN public.code SET NOT NULL"],
    },
    Case {
        name: "a domain over an enum, with a collation, a function in its check",
        old: "",
        new: "CREATE TYPE public.mood AS ENUM ('sad', 'ok');
              CREATE DOMAIN public.okmood AS public.mood CHECK (VALUE <> 'sad');
              CREATE FUNCTION public.valid_id(v text) RETURNS boolean LANGUAGE sql IMMUTABLE
                  AS $$ SELECT v LIKE 'id_%' $$;
              CREATE DOMAIN public.custom_id AS text COLLATE \"C\"
                  CHECK (public.valid_id(VALUE));
              CREATE TABLE public.t (id public.custom_id PRIMARY KEY, m public.okmood[]);",
        hazards: &[],
        plan_has: &["COLLATE \"C\""],
    },
    Case {
        name: "a domain over a table's row type",
        old: "",
        new: "CREATE TABLE public.x (a integer);
              CREATE DOMAIN public.y AS public.x;",
        hazards: &[],
        plan_has: &["CREATE DOMAIN public.y AS public.x"],
    },
    Case {
        name: "hostile names: quotes, unicode, reserved words",
        old: "CREATE DOMAIN public.\"select\" AS integer;
              CREATE TABLE public.\"ta\"\"ble\" (\"select\" public.\"select\");",
        new: "CREATE DOMAIN public.\"select\" AS integer
                  CONSTRAINT \"check\" CHECK (VALUE > 0);
              CREATE DOMAIN public.\"ñandú \"\"d\"\"\" AS text DEFAULT 'é';
              CREATE TABLE public.\"ta\"\"ble\" (\"select\" public.\"select\",
                  \"ñ\" public.\"ñandú \"\"d\"\"\");
              COMMENT ON CONSTRAINT \"check\" ON DOMAIN public.\"select\" IS 'it''s > 0';
              COMMENT ON DOMAIN public.\"ñandú \"\"d\"\"\" IS 'ünïcode';",
        hazards: &[],
        plan_has: &["ALTER DOMAIN public.\"select\" ADD CONSTRAINT \"check\""],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_cases() {
    run_all(CASES).await;
}

const BIG_OLD: &str = "CREATE DOMAIN public.amount AS integer;
     CREATE TABLE public.orders (id integer PRIMARY KEY, total public.amount);
     INSERT INTO public.orders SELECT g, g FROM generate_series(1, 100000) g;
     ANALYZE public.orders;";
const BIG_NEW: &str =
    "CREATE DOMAIN public.amount AS integer CONSTRAINT positive CHECK (VALUE > 0);
     CREATE TABLE public.orders (id integer PRIMARY KEY, total public.amount);";

/// A CHECK added to a domain that a table of 100,000 rows uses: `NOT VALID` in expand (no
/// scan, no table lock), `VALIDATE` in validate; then it converges like every case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_check_on_a_big_table_is_added_not_valid_then_validated() {
    let db = common::test_db().await;
    db.client.batch_execute(BIG_OLD).await.unwrap();
    let dir = schema_dir(BIG_NEW);
    let plan = zdm_on(&["plan"], &db.conninfo, dir.path(), &["--format", "json"]).await;
    assert_eq!(plan.code, 1, "{}", plan.text());
    let json: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let steps = json["steps"].as_array().expect("steps");
    let phase_of = |needle: &str| -> Vec<String> {
        steps
            .iter()
            .filter(|s| s["sql"].as_str().is_some_and(|sql| sql.contains(needle)))
            .map(|s| s["phase"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        phase_of("ADD CONSTRAINT positive CHECK ((VALUE > 0)) NOT VALID"),
        ["expand"],
        "{}",
        plan.stdout
    );
    assert_eq!(
        phase_of("VALIDATE CONSTRAINT positive"),
        ["validate"],
        "{}",
        plan.stdout
    );
    drop(db);
    let case = Case {
        name: "a domain check on 100,000 rows",
        old: BIG_OLD,
        new: BIG_NEW,
        hazards: &["long-lock", "may-fail"],
        plan_has: &["NOT VALID", "VALIDATE CONSTRAINT positive"],
    };
    run(&case).await.unwrap();
}
