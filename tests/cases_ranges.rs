//! Range types and their multiranges, case by case (see `kinds_support`): created before the
//! columns, domains and routines that use them and dropped after; a new comment set in place;
//! a new definition re-created with the routines and views that use it, the columns storing
//! it converted through the text form (a `table-rewrite` hazard, `may-fail` when the subtype
//! changes); grants and owners on them; hostile names. Also: extension versions the files
//! pin, and grants, owners and comments on aggregates (the `(*)` and ordered-set forms).

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use cli_support::{schema_dir, zdm_on};
use kinds_support::{run_all, Case};

static CASES: &[Case] = &[
    Case {
        name: "a range type with subtype_diff, multirange name and comment, used everywhere",
        old: "",
        new: "CREATE FUNCTION public.num_diff(numeric, numeric) RETURNS double precision
                  LANGUAGE sql IMMUTABLE AS $$ SELECT ($1 - $2)::float8 $$;
              CREATE TYPE public.amount_range AS RANGE (subtype = numeric,
                  subtype_diff = public.num_diff, multirange_type_name = public.amounts);
              COMMENT ON TYPE public.amount_range IS 'amounts';
              CREATE DOMAIN public.positive_range AS public.amount_range
                  CHECK (lower(VALUE) >= 0);
              CREATE TABLE public.t (id integer PRIMARY KEY, r public.amount_range,
                  m public.amounts, rs public.amount_range[]);
              CREATE FUNCTION public.width(public.amount_range) RETURNS numeric
                  LANGUAGE sql AS $$ SELECT upper($1) - lower($1) $$;",
        hazards: &[],
        plan_has: &[
            "CREATE TYPE public.amount_range AS RANGE (subtype = numeric, \
             subtype_diff = public.num_diff, multirange_type_name = public.amounts)",
        ],
    },
    Case {
        name: "a range type with a collation and a non-default operator class",
        old: "",
        new: "CREATE TYPE public.text_range AS RANGE (subtype = text, collation = \"C\",
                  subtype_opclass = text_pattern_ops);",
        hazards: &[],
        plan_has: &["subtype_opclass = text_pattern_ops", "collation = \"C\""],
    },
    Case {
        name: "a range type dropped after the column that stores it",
        old: "CREATE TYPE public.fr AS RANGE (subtype = float8);
              CREATE TABLE public.t (id integer PRIMARY KEY, r public.fr);",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY);",
        hazards: &["data-loss"],
        plan_has: &["DROP COLUMN r", "DROP TYPE public.fr;"],
    },
    Case {
        name: "a new comment is set in place",
        old: "CREATE TYPE public.fr AS RANGE (subtype = float8);
              CREATE TABLE public.t (id integer PRIMARY KEY, r public.fr);",
        new: "CREATE TYPE public.fr AS RANGE (subtype = float8);
              COMMENT ON TYPE public.fr IS 'floats';
              CREATE TABLE public.t (id integer PRIMARY KEY, r public.fr);",
        hazards: &[],
        plan_has: &["COMMENT ON TYPE public.fr IS 'floats'", "!DROP TYPE"],
    },
    Case {
        name: "a new subtype_diff re-creates the type, converting the columns, \
               with the function and view that use it",
        old: "CREATE TYPE public.fr AS RANGE (subtype = float8);
              CREATE TABLE public.t (id integer PRIMARY KEY,
                  r public.fr DEFAULT public.fr(0, 1), m public.fr_multirange);
              INSERT INTO public.t VALUES (1, '[1,2)', '{[1,2),[3,4)}');
              CREATE FUNCTION public.lo(public.fr) RETURNS float8 LANGUAGE sql
                  AS $$ SELECT lower($1) $$;
              CREATE VIEW public.v AS SELECT id, r FROM public.t;",
        new: "CREATE TYPE public.fr AS RANGE (subtype = float8, subtype_diff = float8mi);
              CREATE TABLE public.t (id integer PRIMARY KEY,
                  r public.fr DEFAULT public.fr(0, 1), m public.fr_multirange);
              CREATE FUNCTION public.lo(public.fr) RETURNS float8 LANGUAGE sql
                  AS $$ SELECT lower($1) $$;
              CREATE VIEW public.v AS SELECT id, r FROM public.t;",
        hazards: &["table-rewrite"],
        plan_has: &[
            "ALTER COLUMN r TYPE text USING r::text::text;",
            "DROP TYPE public.fr;",
            "USING r::text::public.fr",
            "USING m::text::public.fr_multirange",
            "DROP VIEW public.v",
            "DROP FUNCTION public.lo(public.fr)",
        ],
    },
    Case {
        name: "a new subtype where a routine and an array column use the type",
        old: "CREATE TYPE public.span AS RANGE (subtype = integer);
              CREATE TABLE public.s (id integer PRIMARY KEY, spans public.span[]);
              INSERT INTO public.s VALUES (1, ARRAY['[1,3)'::public.span]);
              CREATE FUNCTION public.len(public.span) RETURNS integer LANGUAGE sql
                  AS $$ SELECT upper($1) - lower($1) $$;",
        new: "CREATE TYPE public.span AS RANGE (subtype = bigint);
              CREATE TABLE public.s (id integer PRIMARY KEY, spans public.span[]);
              CREATE FUNCTION public.len(public.span) RETURNS bigint LANGUAGE sql
                  AS $$ SELECT upper($1) - lower($1) $$;",
        hazards: &["may-fail", "table-rewrite"],
        plan_has: &[
            "CREATE TYPE public.span AS RANGE (subtype = bigint",
            "ALTER COLUMN spans TYPE text[] USING spans::text::text[];",
        ],
    },
    Case {
        name: "hostile names: quotes, unicode, reserved words, a grant to \"select\"",
        old: "",
        new: "CREATE SCHEMA \"ñ \"\"s\"\"\";
              CREATE TYPE \"ñ \"\"s\"\"\".\"select\" AS RANGE (subtype = date,
                  multirange_type_name = \"ñ \"\"s\"\"\".\"from \"\"m\"\"\");
              COMMENT ON TYPE \"ñ \"\"s\"\"\".\"select\" IS 'it''s ünïcode';
              REVOKE USAGE ON TYPE \"ñ \"\"s\"\"\".\"select\" FROM PUBLIC;
              GRANT USAGE ON TYPE \"ñ \"\"s\"\"\".\"select\" TO \"select\";
              CREATE TABLE \"ñ \"\"s\"\"\".\"table\" (\"order\" \"ñ \"\"s\"\"\".\"from \"\"m\"\"\");",
        hazards: &[],
        plan_has: &["multirange_type_name = \"ñ \"\"s\"\"\".\"from \"\"m\"\"\""],
    },
    Case {
        name: "a grant and an owner on a range type",
        old: "CREATE TYPE public.fr AS RANGE (subtype = float8);",
        new: "CREATE TYPE public.fr AS RANGE (subtype = float8);
              GRANT USAGE ON TYPE public.fr TO \"select\";
              ALTER TYPE public.fr OWNER TO \"select\";",
        hazards: &[],
        plan_has: &["ALTER TYPE public.fr OWNER TO \"select\";"],
    },
    Case {
        name: "grants, owner and comment on a zero-argument and an ordered-set aggregate",
        old: "CREATE AGGREGATE public.rows_seen(*) (SFUNC = int8inc, STYPE = bigint,
                  INITCOND = '0');
              CREATE FUNCTION public.os_final(internal, double precision, anyelement)
                  RETURNS anyelement LANGUAGE internal IMMUTABLE AS 'percentile_disc_final';
              CREATE AGGREGATE public.\"my pct\"(double precision ORDER BY anyelement) (
                  SFUNC = ordered_set_transition, STYPE = internal,
                  FINALFUNC = public.os_final, FINALFUNC_EXTRA);",
        new: "CREATE AGGREGATE public.rows_seen(*) (SFUNC = int8inc, STYPE = bigint,
                  INITCOND = '0');
              COMMENT ON AGGREGATE public.rows_seen(*) IS 'counts';
              REVOKE EXECUTE ON FUNCTION public.rows_seen() FROM PUBLIC;
              GRANT EXECUTE ON FUNCTION public.rows_seen() TO \"select\";
              ALTER AGGREGATE public.rows_seen(*) OWNER TO \"select\";
              CREATE FUNCTION public.os_final(internal, double precision, anyelement)
                  RETURNS anyelement LANGUAGE internal IMMUTABLE AS 'percentile_disc_final';
              CREATE AGGREGATE public.\"my pct\"(double precision ORDER BY anyelement) (
                  SFUNC = ordered_set_transition, STYPE = internal,
                  FINALFUNC = public.os_final, FINALFUNC_EXTRA);
              COMMENT ON AGGREGATE public.\"my pct\"(double precision ORDER BY anyelement)
                  IS 'pct';
              GRANT EXECUTE ON FUNCTION public.\"my pct\"(double precision, anyelement)
                  TO \"select\" WITH GRANT OPTION;",
        hazards: &["access-loss"],
        plan_has: &[
            "COMMENT ON AGGREGATE public.rows_seen(*) IS 'counts';",
            "ALTER AGGREGATE public.rows_seen(*) OWNER TO \"select\";",
            "ON FUNCTION public.\"my pct\"(double precision, anyelement) TO \"select\"",
        ],
    },
];

/// Roles are cluster-wide: created once, tolerating another test binary's copy.
async fn create_roles() {
    let db = common::test_db().await;
    db.client
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE \"select\" NOLOGIN; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        )
        .await
        .expect("create role");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_type_cases() {
    create_roles().await;
    run_all(CASES).await;
}

/// A range type a domain is built on cannot be re-created under it: refused with the recipe,
/// nothing changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_definition_under_a_domain_is_refused() {
    let db = common::test_db().await;
    let old = "CREATE TYPE public.fr AS RANGE (subtype = float8);
               CREATE DOMAIN public.d AS public.fr;";
    db.client.batch_execute(old).await.unwrap();
    let dir = schema_dir(
        "CREATE TYPE public.fr AS RANGE (subtype = float8, subtype_diff = float8mi);
         CREATE DOMAIN public.d AS public.fr;",
    );
    let plan = zdm_on(&["plan"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(
        plan.stderr.contains("domain public.d") && plan.stderr.contains("-- zdm:using"),
        "{}",
        plan.text()
    );
}

/// The version the files pin is applied (`ALTER EXTENSION ... UPDATE TO`); an unpinned one is
/// not compared (the live database keeps its older version, and the plan is empty).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extension_versions_are_compared_only_where_pinned() {
    let db = common::test_db().await;
    db.client
        .batch_execute("CREATE EXTENSION citext VERSION '1.4' SCHEMA public;")
        .await
        .unwrap();
    let unpinned = schema_dir("CREATE EXTENSION citext SCHEMA public;");
    let plan = zdm_on(&["plan"], &db.conninfo, unpinned.path(), &[]).await;
    assert_eq!(
        plan.code,
        0,
        "unpinned: no change expected\n{}",
        plan.text()
    );

    let pinned = schema_dir("CREATE EXTENSION citext VERSION '1.5' SCHEMA public;");
    let plan = zdm_on(&["plan"], &db.conninfo, pinned.path(), &[]).await;
    assert_eq!(plan.code, 1, "{}", plan.text());
    assert!(
        plan.stdout
            .contains("ALTER EXTENSION citext UPDATE TO '1.5';"),
        "{}",
        plan.text()
    );
    let apply = cli_support::apply_all(&db.conninfo, pinned.path()).await;
    assert_eq!(apply.code, 0, "{}", apply.text());
    let version: String = db
        .client
        .query_one(
            "SELECT extversion FROM pg_extension WHERE extname = 'citext'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, "1.5");
    let again = zdm_on(&["plan"], &db.conninfo, pinned.path(), &[]).await;
    assert_eq!(again.code, 0, "second plan not empty\n{}", again.text());
}
