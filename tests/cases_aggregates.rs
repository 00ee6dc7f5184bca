//! Aggregates, case by case (see `kinds_support`): created after the functions they call,
//! dropped before them, replaced in place (`CREATE OR REPLACE AGGREGATE`) when their
//! parameters change, re-created with the views that use them when their result type does.

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use kinds_support::{run_all, Case};

static CASES: &[Case] = &[
    Case {
        name: "an aggregate with its function, moving-aggregate options and a comment",
        old: "",
        new: "CREATE FUNCTION public.num_add(numeric, numeric) RETURNS numeric
                  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT $1 + $2 $$;
              CREATE FUNCTION public.num_sub(numeric, numeric) RETURNS numeric
                  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT $1 - $2 $$;
              CREATE AGGREGATE public.my_sum(numeric) (
                  SFUNC = public.num_add, STYPE = numeric, COMBINEFUNC = public.num_add,
                  INITCOND = '0', MSFUNC = public.num_add, MINVFUNC = public.num_sub,
                  MSTYPE = numeric, MINITCOND = '0', PARALLEL = SAFE);
              COMMENT ON AGGREGATE public.my_sum(numeric) IS 'sums';",
        hazards: &[],
        plan_has: &[
            "CREATE AGGREGATE public.my_sum(numeric)",
            "MINVFUNC = public.num_sub",
        ],
    },
    Case {
        name: "an aggregate dropped before its function",
        old: "CREATE FUNCTION public._concat(text, text) RETURNS text LANGUAGE sql
                  IMMUTABLE AS $$ SELECT coalesce($1 || ',', '') || $2 $$;
              CREATE AGGREGATE public.concat_all(text) (SFUNC = public._concat, STYPE = text);",
        new: "",
        hazards: &[],
        plan_has: &[
            "DROP AGGREGATE public.concat_all(text);",
            "DROP FUNCTION public._concat",
        ],
    },
    Case {
        name: "an initial condition changed: replaced in place",
        old: "CREATE AGGREGATE public.total(integer) (SFUNC = int4pl, STYPE = integer);",
        new: "CREATE AGGREGATE public.total(integer) (SFUNC = int4pl, STYPE = integer,
                  INITCOND = '0');",
        hazards: &[],
        plan_has: &[
            "CREATE OR REPLACE AGGREGATE public.total(integer)",
            "!DROP AGGREGATE",
        ],
    },
    Case {
        name: "a new result type re-creates the aggregate and the view using it",
        old: "CREATE AGGREGATE public.total(integer) (SFUNC = int4pl, STYPE = integer);
              CREATE TABLE public.t (n integer);
              CREATE VIEW public.v AS SELECT public.total(n) AS s FROM public.t;",
        new: "CREATE AGGREGATE public.total(integer) (SFUNC = int4_sum, STYPE = bigint);
              CREATE TABLE public.t (n integer);
              CREATE VIEW public.v AS SELECT public.total(n) AS s FROM public.t;",
        hazards: &[],
        plan_has: &["DROP VIEW public.v", "DROP AGGREGATE public.total(integer)"],
    },
    Case {
        name: "an ordered-set aggregate and a zero-argument one",
        old: "",
        new: "CREATE FUNCTION public.os_final(internal, double precision, anyelement)
                  RETURNS anyelement LANGUAGE internal IMMUTABLE
                  AS 'percentile_disc_final';
              CREATE AGGREGATE public.my_pct(double precision ORDER BY anyelement) (
                  SFUNC = ordered_set_transition, STYPE = internal,
                  FINALFUNC = public.os_final, FINALFUNC_EXTRA);
              CREATE AGGREGATE public.rows_seen(*) (SFUNC = int8inc, STYPE = bigint,
                  INITCOND = '0');",
        hazards: &[],
        plan_has: &[
            "ORDER BY anyelement",
            "CREATE AGGREGATE public.rows_seen(*)",
        ],
    },
    Case {
        name: "hostile names: quotes, unicode, reserved words",
        old: "",
        new: "CREATE FUNCTION public.\"ñ \"\"step\"\"\"(text, text) RETURNS text LANGUAGE sql
                  IMMUTABLE AS $$ SELECT $1 || $2 $$;
              CREATE AGGREGATE public.\"select\"(text) (SFUNC = public.\"ñ \"\"step\"\"\",
                  STYPE = text, INITCOND = 'it''s');
              COMMENT ON AGGREGATE public.\"select\"(text) IS 'ünïcode';",
        hazards: &[],
        plan_has: &[
            "CREATE AGGREGATE public.\"select\"(text)",
            "INITCOND = 'it''s'",
        ],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregate_cases() {
    run_all(CASES).await;
}
