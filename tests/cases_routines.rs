//! Functions and procedures, case by case (see `kinds_support`): a new body is a `CREATE OR
//! REPLACE`, a new signature a new routine (the old one dropped in contract), a changed
//! result or parameter name a drop and create with the dependents; overloads are separate
//! objects.

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use kinds_support::{run_all, Case};

const ADD: &str = "CREATE FUNCTION public.add(a integer, b integer) RETURNS integer
    LANGUAGE sql IMMUTABLE AS 'SELECT a + b';\n";

const NOTES: &str = "CREATE TABLE public.t (id integer PRIMARY KEY, note text, amount integer);
CREATE FUNCTION public.noted() RETURNS bigint LANGUAGE plpgsql STABLE
    AS $$ BEGIN RETURN (SELECT count(note) FROM public.t); END $$;\n";

static CASES: &[Case] = &[
    Case {
        name: "a column a kept PL/pgSQL body names is dropped: may-fail names the function",
        old: NOTES,
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, amount integer);
              CREATE FUNCTION public.noted() RETURNS bigint LANGUAGE plpgsql STABLE
                  AS $$ BEGIN RETURN (SELECT count(note) FROM public.t); END $$;",
        hazards: &["data-loss", "may-fail"],
        plan_has: &["DROP COLUMN note"],
    },
    Case {
        name: "the body stops naming the column first: no may-fail",
        old: NOTES,
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, amount integer);
              CREATE FUNCTION public.noted() RETURNS bigint LANGUAGE plpgsql STABLE
                  AS $$ BEGIN RETURN (SELECT count(*) FROM public.t); END $$;",
        hazards: &["data-loss"],
        plan_has: &[
            "CREATE OR REPLACE FUNCTION public.noted()",
            "DROP COLUMN note",
        ],
    },
    Case {
        name: "a column a PL/pgSQL body names is retyped: nothing to flag",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY, note text, amount integer);
              INSERT INTO public.t VALUES (1, 'a', 10);
              CREATE FUNCTION public.noted() RETURNS bigint LANGUAGE plpgsql STABLE
                  AS $$ BEGIN RETURN (SELECT count(note) FROM public.t); END $$;",
        new: "CREATE TABLE public.t (
                  id integer PRIMARY KEY,
                  note text,
                  amount bigint -- zdm:using amount::bigint
              );
              CREATE FUNCTION public.noted() RETURNS bigint LANGUAGE plpgsql STABLE
                  AS $$ BEGIN RETURN (SELECT count(note) + sum(amount) FROM public.t); END $$;",
        hazards: &[],
        plan_has: &["zdm_new_amount"],
    },
    Case {
        name: "add a function reading a new table",
        old: "",
        new: "CREATE FUNCTION public.total() RETURNS bigint LANGUAGE sql STABLE
                  AS 'SELECT count(*) FROM public.orders';
              CREATE TABLE public.orders (id integer PRIMARY KEY);",
        hazards: &[],
        plan_has: &["CREATE OR REPLACE FUNCTION public.total()"],
    },
    Case {
        name: "drop a function",
        old: ADD,
        new: "",
        hazards: &[],
        plan_has: &["DROP FUNCTION public.add(integer, integer)"],
    },
    Case {
        name: "a new body and attributes: replaced in place",
        old: ADD,
        new: "CREATE FUNCTION public.add(a integer, b integer) RETURNS integer
                  LANGUAGE plpgsql STRICT SECURITY DEFINER SET search_path = ''
                  AS $$ BEGIN RETURN a + b; END $$;",
        hazards: &[],
        plan_has: &["CREATE OR REPLACE FUNCTION public.add", "!DROP FUNCTION"],
    },
    Case {
        name: "overloads: one changed, one added, one kept",
        old: "CREATE FUNCTION public.f(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x';
              CREATE FUNCTION public.f(x text) RETURNS text LANGUAGE sql AS 'SELECT x';",
        new: "CREATE FUNCTION public.f(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x';
              CREATE FUNCTION public.f(x text) RETURNS text LANGUAGE sql AS 'SELECT upper(x)';
              CREATE FUNCTION public.f(x integer, y integer) RETURNS integer LANGUAGE sql
                  AS 'SELECT x + y';",
        hazards: &[],
        plan_has: &["upper(x)", "x + y", "!DROP FUNCTION"],
    },
    Case {
        name: "a changed signature: new one in expand, old one dropped in contract",
        old: ADD,
        new: "CREATE FUNCTION public.add(a bigint, b bigint) RETURNS bigint
                  LANGUAGE sql IMMUTABLE AS 'SELECT a + b';",
        hazards: &[],
        plan_has: &["DROP FUNCTION public.add(integer, integer)"],
    },
    Case {
        name: "a renamed parameter: dropped and created",
        old: ADD,
        new: "CREATE FUNCTION public.add(x integer, b integer) RETURNS integer
                  LANGUAGE sql IMMUTABLE AS 'SELECT x + b';",
        hazards: &[],
        plan_has: &["DROP FUNCTION public.add(integer, integer)"],
    },
    Case {
        name: "RETURNS TABLE and SETOF a view's rows",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY, name text);",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text);
              CREATE VIEW public.named AS SELECT id, name FROM public.t WHERE name IS NOT NULL;
              CREATE FUNCTION public.all_named() RETURNS SETOF public.named LANGUAGE sql
                  AS 'SELECT * FROM public.named';
              CREATE FUNCTION public.pairs(n integer) RETURNS TABLE(i integer, j integer)
                  LANGUAGE sql AS 'SELECT g, g * 2 FROM generate_series(1, n) g';",
        hazards: &[],
        plan_has: &[],
    },
    Case {
        name: "a procedure added and one changed",
        old: "CREATE TABLE public.log (msg text);
              CREATE PROCEDURE public.note(m text) LANGUAGE sql
                  AS 'INSERT INTO public.log VALUES (m)';",
        new: "CREATE TABLE public.log (msg text);
              CREATE PROCEDURE public.note(m text) LANGUAGE sql
                  AS 'INSERT INTO public.log VALUES (upper(m))';
              CREATE PROCEDURE public.clear() LANGUAGE sql AS 'DELETE FROM public.log';
              COMMENT ON PROCEDURE public.clear() IS 'empties the log';",
        hazards: &[],
        plan_has: &[
            "CREATE OR REPLACE PROCEDURE public.note",
            "COMMENT ON PROCEDURE",
        ],
    },
    Case {
        name: "a function calling a function",
        old: "",
        new: "CREATE FUNCTION public.outer_f(x integer) RETURNS integer LANGUAGE sql
                  AS 'SELECT public.inner_f(x) + 1';
              CREATE FUNCTION public.inner_f(x integer) RETURNS integer LANGUAGE sql
                  AS 'SELECT x * 10';
              COMMENT ON FUNCTION public.inner_f(integer) IS 'times ten';",
        hazards: &[],
        plan_has: &[],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routine_cases() {
    run_all(CASES).await;
}
