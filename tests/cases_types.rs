//! Composite types, case by case (see `kinds_support`): created before the types, columns and
//! routines that use them and dropped after, attributes added and dropped in place (a hazard
//! where a column stores the type), retyped in place where only routines use it, and a new
//! attribute order where nothing uses it.

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use cli_support::{schema_dir, zdm_on};
use kinds_support::{run_all, Case};

static CASES: &[Case] = &[
    Case {
        name: "a composite type over an enum, used by a column and a function",
        old: "",
        new: "CREATE TYPE public.status AS ENUM ('on', 'off');
              CREATE TYPE public.rec AS (id integer, status public.status);
              CREATE TYPE public.outer_rec AS (inner_rec public.rec, tags text[]);
              CREATE TABLE public.t (id integer PRIMARY KEY, r public.outer_rec);
              CREATE FUNCTION public.f(items public.rec[]) RETURNS integer LANGUAGE sql
                  AS $$ SELECT coalesce(array_length(items, 1), 0) $$;
              COMMENT ON TYPE public.rec IS 'a record';
              COMMENT ON COLUMN public.rec.id IS 'its id';",
        hazards: &[],
        plan_has: &["CREATE TYPE public.rec AS (", "CREATE TYPE public.outer_rec"],
    },
    Case {
        name: "a type dropped after the column and function that use it",
        old: "CREATE TYPE public.pt AS (x integer, y integer);
              CREATE TABLE public.t (id integer PRIMARY KEY, p public.pt);
              CREATE FUNCTION public.f(public.pt) RETURNS integer LANGUAGE sql AS 'SELECT 1';",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY);",
        hazards: &["data-loss"],
        plan_has: &["DROP COLUMN p", "DROP TYPE public.pt"],
    },
    Case {
        name: "an attribute added and one dropped on a type a column stores",
        old: "CREATE TYPE public.pt AS (x integer, y integer);
              CREATE TABLE public.t (id integer PRIMARY KEY, p public.pt);
              INSERT INTO public.t VALUES (1, ROW(1, 2));",
        new: "CREATE TYPE public.pt AS (x integer, z text);
              CREATE TABLE public.t (id integer PRIMARY KEY, p public.pt);",
        hazards: &["data-loss"],
        plan_has: &[
            "ALTER TYPE public.pt ADD ATTRIBUTE z text CASCADE",
            "ALTER TYPE public.pt DROP ATTRIBUTE y CASCADE",
            "!DROP TYPE",
        ],
    },
    Case {
        name: "an attribute retyped where only a function uses the type",
        old: "CREATE TYPE public.q AS (a integer);
              CREATE FUNCTION public.g(public.q[]) RETURNS integer LANGUAGE sql AS 'SELECT 1';",
        new: "CREATE TYPE public.q AS (a bigint);
              CREATE FUNCTION public.g(public.q[]) RETURNS integer LANGUAGE sql AS 'SELECT 1';",
        hazards: &["may-fail"],
        plan_has: &["ALTER TYPE public.q ALTER ATTRIBUTE a TYPE bigint"],
    },
    Case {
        name: "attributes reordered on an unused type",
        old: "CREATE TYPE public.q AS (a integer, b text);",
        new: "CREATE TYPE public.q AS (b text, a integer);",
        hazards: &[],
        plan_has: &["DROP TYPE public.q;", "CREATE TYPE public.q AS ("],
    },
    Case {
        name: "hostile names: quotes, unicode, reserved words",
        old: "",
        new: "CREATE TYPE public.\"select\" AS (\"from\" integer, \"ñ \"\"q\"\"\" text COLLATE \"C\");
              CREATE TYPE public.\"Ünï\" AS (\"order\" public.\"select\");
              COMMENT ON TYPE public.\"select\" IS 'it''s';
              COMMENT ON COLUMN public.\"select\".\"from\" IS 'ünïcode';",
        hazards: &[],
        plan_has: &["CREATE TYPE public.\"select\" AS ("],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_type_cases() {
    run_all(CASES).await;
}

/// A new type for an attribute of a type a column stores: PostgreSQL cannot convert the stored
/// values in place, so zdm refuses with the recipe, and the database is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attribute_retyped_under_a_column_is_refused() {
    let db = common::test_db().await;
    db.client
        .batch_execute(
            "CREATE TYPE public.pt AS (x integer);
             CREATE TABLE public.t (id integer PRIMARY KEY, p public.pt);",
        )
        .await
        .unwrap();
    let dir = schema_dir(
        "CREATE TYPE public.pt AS (x bigint);
         CREATE TABLE public.t (id integer PRIMARY KEY, p public.pt);",
    );
    let plan = zdm_on(&["plan"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(
        plan.stderr.contains("public.t.p") && plan.stderr.contains("-- zdm:using"),
        "{}",
        plan.text()
    );
}
