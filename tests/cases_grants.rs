//! Grants, default privileges and owners, case by case (see `kinds_support`): granting is
//! expand, revoking on an existing object is contract with an `access-loss` hazard, ACLs are
//! compared as privilege sets (the owner's implicit privileges never show), and a role the
//! live cluster lacks is an error at the file position that names it.

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use cli_support::{schema_dir, zdm_on};
use kinds_support::{run_all, Case};

const T: &str = "CREATE TABLE public.t (id integer PRIMARY KEY, name text);\n";
const F: &str = "CREATE FUNCTION public.f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a';\n";

/// Roles are cluster-wide: made once for every case (zdm never creates them live).
const ROLES: &[&str] = &["app_reader", "app_writer", "select", "o'really \"ü\""];

async fn create_roles() {
    let db = common::test_db().await;
    for role in ROLES {
        let sql = format!(
            "DO $$ BEGIN CREATE ROLE {} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
            zdm::sql::quote_ident(role).replace('$', "\\$")
        );
        db.client.batch_execute(&sql).await.expect("create role");
    }
}

static CASES: &[Case] = &[
    Case {
        name: "table-level privilege narrowed to a column: the column grant survives the revoke",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY, name text);
              GRANT SELECT, UPDATE ON public.t TO app_writer;",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text);
              GRANT SELECT ON public.t TO app_writer;
              GRANT UPDATE (name) ON public.t TO app_writer;",
        hazards: &["access-loss"],
        plan_has: &["REVOKE UPDATE ON TABLE public.t FROM app_writer;\nGRANT UPDATE (name) ON TABLE public.t TO app_writer;"],
    },
    Case {
        name: "new tables start from the default privileges: revokes on them are expand",
        old: "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO app_writer;",
        new: "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO app_writer;
              CREATE TABLE public.t (id integer PRIMARY KEY);
              REVOKE INSERT ON public.t FROM app_writer;",
        hazards: &[],
        plan_has: &["REVOKE INSERT ON TABLE public.t FROM app_writer;"],
    },
    Case {
        name: "grant added: expand",
        old: T,
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text);
              GRANT SELECT, INSERT ON public.t TO app_reader;",
        hazards: &[],
        plan_has: &["GRANT INSERT, SELECT ON TABLE public.t TO app_reader;"],
    },
    Case {
        name: "grant revoked: contract, with a hazard",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY, name text);
              GRANT SELECT, UPDATE ON public.t TO app_reader;",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text);
              GRANT SELECT ON public.t TO app_reader;",
        hazards: &["access-loss"],
        plan_has: &["REVOKE UPDATE ON TABLE public.t FROM app_reader;", "!GRANT"],
    },
    Case {
        name: "with grant option added and taken away",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY, name text);
              CREATE TABLE public.u (id integer PRIMARY KEY);
              GRANT SELECT ON public.t TO app_reader;
              GRANT SELECT ON public.u TO app_reader WITH GRANT OPTION;",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text);
              CREATE TABLE public.u (id integer PRIMARY KEY);
              GRANT SELECT ON public.t TO app_reader WITH GRANT OPTION;
              GRANT SELECT ON public.u TO app_reader;",
        hazards: &["access-loss"],
        plan_has: &[
            "GRANT SELECT ON TABLE public.t TO app_reader WITH GRANT OPTION;",
            "REVOKE GRANT OPTION FOR SELECT ON TABLE public.u FROM app_reader;",
        ],
    },
    Case {
        name: "column grants",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, secret text);
              GRANT SELECT (secret) ON public.t TO app_reader;",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, secret text);
              GRANT SELECT (id, name), UPDATE (name) ON public.t TO app_writer;",
        hazards: &["access-loss"],
        plan_has: &[
            "GRANT SELECT (id) ON TABLE public.t TO app_writer;",
            "GRANT SELECT (name), UPDATE (name) ON TABLE public.t TO app_writer;",
            "REVOKE SELECT (secret) ON TABLE public.t FROM app_reader;",
        ],
    },
    Case {
        name: "function: REVOKE EXECUTE FROM PUBLIC on an existing function",
        old: F,
        new: "CREATE FUNCTION public.f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a';
              REVOKE EXECUTE ON FUNCTION public.f(integer) FROM PUBLIC;
              GRANT EXECUTE ON FUNCTION public.f(integer) TO app_writer;",
        hazards: &["access-loss"],
        plan_has: &[
            "REVOKE EXECUTE ON FUNCTION public.f(integer) FROM PUBLIC;",
            "GRANT EXECUTE ON FUNCTION public.f(integer) TO app_writer;",
        ],
    },
    Case {
        name: "new function without PUBLIC execute: revoked in expand, no hazard",
        old: "",
        new: "CREATE FUNCTION public.f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a';
              REVOKE ALL ON FUNCTION public.f(integer) FROM PUBLIC;",
        hazards: &[],
        plan_has: &["REVOKE EXECUTE ON FUNCTION public.f(integer) FROM PUBLIC;"],
    },
    Case {
        name: "schema, sequence, view, materialized view and type grants",
        old: "CREATE SCHEMA app;",
        new: "CREATE SCHEMA app;
              CREATE TYPE app.mood AS ENUM ('ok');
              CREATE SEQUENCE app.s;
              CREATE TABLE app.t (id integer PRIMARY KEY);
              CREATE VIEW app.v AS SELECT id FROM app.t;
              CREATE MATERIALIZED VIEW app.m AS SELECT id FROM app.t;
              GRANT USAGE ON SCHEMA app TO app_reader;
              GRANT USAGE, SELECT ON SEQUENCE app.s TO app_writer;
              GRANT SELECT ON app.v, app.m TO app_reader;
              REVOKE USAGE ON TYPE app.mood FROM PUBLIC;",
        hazards: &[],
        plan_has: &[
            "GRANT USAGE ON SCHEMA app TO app_reader;",
            "ON SEQUENCE app.s TO app_writer;",
            "GRANT SELECT ON TABLE app.v TO app_reader;",
            "GRANT SELECT ON TABLE app.m TO app_reader;",
            "REVOKE USAGE ON TYPE app.mood FROM PUBLIC;",
        ],
    },
    Case {
        name: "default privileges, before the table that gets them",
        old: "CREATE SCHEMA app;",
        new: "CREATE SCHEMA app;
              ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO app_reader;
              ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
              CREATE TABLE app.t (id integer PRIMARY KEY);
              CREATE FUNCTION app.f() RETURNS integer LANGUAGE sql AS 'SELECT 1';",
        hazards: &[],
        plan_has: &[
            "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO app_reader;",
            "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
        ],
    },
    Case {
        name: "default privileges removed",
        old: "CREATE SCHEMA app;
              ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT, INSERT ON TABLES TO app_reader;",
        new: "CREATE SCHEMA app;
              ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO app_reader;",
        hazards: &[],
        plan_has: &[
            "ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE INSERT ON TABLES FROM app_reader;",
        ],
    },
    Case {
        name: "hostile role names",
        old: T,
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text);
              GRANT SELECT ON public.t TO \"select\";
              GRANT UPDATE (name) ON public.t TO \"o'really \"\"ü\"\"\";",
        hazards: &[],
        plan_has: &[
            "GRANT SELECT ON TABLE public.t TO \"select\";",
            "GRANT UPDATE (name) ON TABLE public.t TO \"o'really \"\"ü\"\"\";",
        ],
    },
    Case {
        name: "owner set by the files",
        old: "CREATE SCHEMA app; CREATE TABLE app.t (id integer PRIMARY KEY);",
        new: "CREATE SCHEMA app AUTHORIZATION app_writer;
              CREATE TABLE app.t (id integer PRIMARY KEY);
              ALTER TABLE app.t OWNER TO app_writer;",
        hazards: &[],
        plan_has: &[
            "ALTER SCHEMA app OWNER TO app_writer;",
            "ALTER TABLE app.t OWNER TO app_writer;",
        ],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_cases() {
    create_roles().await;
    run_all(CASES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_the_files_do_not_set_are_not_compared() {
    create_roles().await;
    let db = common::test_db().await;
    db.client
        .batch_execute(
            "CREATE TABLE public.t (id integer); ALTER TABLE public.t OWNER TO app_reader;",
        )
        .await
        .unwrap();
    let dir = schema_dir("CREATE TABLE public.t (id integer);\n");
    let diff = zdm_on(&["diff"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(diff.code, 0, "{}", diff.text());
}

/// The live cluster's roles are read before the shadow load: here the shadow shares the live
/// cluster (`--dev-url`), and its load creates the bare roles the files name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_missing_live_is_an_error_at_its_position() {
    let db = common::test_db().await;
    let dir = schema_dir(
        "CREATE TABLE public.t (id integer);\nGRANT SELECT ON public.t TO nobody_has_this_role;\n",
    );
    let plan = zdm_on(&["plan"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(plan.code, 2, "{}", plan.text());
    let text = plan.text();
    assert!(text.contains(":2:29"), "position of the role: {text}");
    assert!(text.contains("nobody_has_this_role"), "{text}");
}
