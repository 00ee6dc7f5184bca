//! Collations, case by case (see `kinds_support`): created before the columns, domains and
//! type attributes that use them, dropped after the columns moved off them, re-created when
//! unused and refused (with the recipe) when a column uses them.

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use cli_support::{schema_dir, zdm_on};
use kinds_support::{run_all, Case};

static CASES: &[Case] = &[
    Case {
        name: "ICU and libc collations used by columns, a domain and a type",
        old: "CREATE TABLE public.t (a text);",
        new: "CREATE COLLATION public.\"numeric\" (provider = icu, locale = 'en-u-kn-true');
              CREATE COLLATION public.posix (provider = libc, locale = 'POSIX');
              CREATE COLLATION public.ci (provider = icu, locale = 'und-u-ks-level2',
                  deterministic = false);
              CREATE TABLE public.t (a text, b text COLLATE public.\"numeric\",
                  c text COLLATE public.ci);
              CREATE DOMAIN public.code AS text COLLATE public.posix;
              CREATE TYPE public.pair AS (k text COLLATE public.\"numeric\");
              COMMENT ON COLLATION public.ci IS 'case-insensitive';",
        hazards: &[],
        plan_has: &[
            "CREATE COLLATION public.ci (provider = icu",
            "deterministic = false",
        ],
    },
    Case {
        name: "a column moved to another collation, the old one dropped after",
        old: "CREATE COLLATION public.posix FROM \"POSIX\";
              CREATE COLLATION public.\"numeric\" (provider = icu, locale = 'en-u-kn-true');
              CREATE TABLE public.t (a text, b text COLLATE public.posix);",
        new: "CREATE COLLATION public.\"numeric\" (provider = icu, locale = 'en-u-kn-true');
              CREATE TABLE public.t (a text, b text COLLATE public.\"numeric\");",
        hazards: &[],
        plan_has: &["DROP COLLATION public.posix;"],
    },
    Case {
        name: "an unused collation re-defined, a comment changed",
        old: "CREATE COLLATION public.c1 (provider = icu, locale = 'en');
              CREATE COLLATION public.c2 (provider = icu, locale = 'de');",
        new: "CREATE COLLATION public.c1 (provider = icu, locale = 'fr');
              CREATE COLLATION public.c2 (provider = icu, locale = 'de');
              COMMENT ON COLLATION public.c2 IS 'German';",
        hazards: &[],
        plan_has: &[
            "DROP COLLATION public.c1;",
            "COMMENT ON COLLATION public.c2",
        ],
    },
    Case {
        name: "hostile names: quotes, unicode, reserved words",
        old: "",
        new: "CREATE COLLATION public.\"select \"\"ñ\"\"\" (provider = icu, locale = 'es');
              CREATE TABLE public.\"from\" (\"order\" text COLLATE public.\"select \"\"ñ\"\"\");
              COMMENT ON COLLATION public.\"select \"\"ñ\"\"\" IS 'it''s';",
        hazards: &[],
        plan_has: &["CREATE COLLATION public.\"select \"\"ñ\"\"\""],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collation_cases() {
    run_all(CASES).await;
}

/// A column uses the collation whose locale changes: PostgreSQL cannot change it in place,
/// so zdm refuses with the recipe, naming the column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collation_in_use_is_not_redefined() {
    let db = common::test_db().await;
    db.client
        .batch_execute(
            "CREATE COLLATION public.c1 (provider = icu, locale = 'en');
             CREATE TABLE public.t (a text COLLATE public.c1);",
        )
        .await
        .unwrap();
    let dir = schema_dir(
        "CREATE COLLATION public.c1 (provider = icu, locale = 'fr');
         CREATE TABLE public.t (a text COLLATE public.c1);",
    );
    let plan = zdm_on(&["plan"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(plan.stderr.contains("public.t.a"), "{}", plan.text());
}
