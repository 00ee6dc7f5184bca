//! Enum values removed or reordered, staged online (see `kinds_support` for the case
//! runner): the new type under a helper name, each column of the old type converted by the
//! online retype (shadow column, sync trigger, backfill, swap), the old type dropped and the
//! new one renamed at contract. Rows holding a removed value refuse the plan before anything
//! runs; a domain over the enum is refused with what to do instead.

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use cli_support::{schema_dir, zdm_on};
use kinds_support::{run_all, Case};

static CASES: &[Case] = &[
    Case {
        name: "a value no row uses removed; a default and a view over the column",
        old: "CREATE TYPE public.status AS ENUM ('new', 'paid', 'void', 'shipped');
              COMMENT ON TYPE public.status IS 'order status';
              CREATE TABLE public.orders (id int PRIMARY KEY,
                  status public.status NOT NULL DEFAULT 'new');
              CREATE INDEX orders_status ON public.orders (status);
              INSERT INTO public.orders SELECT g, (ARRAY['new','paid','shipped'])[g % 3 + 1]::public.status
                  FROM generate_series(1, 300) g;
              CREATE VIEW public.open_orders AS SELECT id, status FROM public.orders
                  WHERE status <> 'shipped';",
        new: "CREATE TYPE public.status AS ENUM ('new', 'paid', 'shipped');
              COMMENT ON TYPE public.status IS 'order status';
              CREATE TABLE public.orders (id int PRIMARY KEY,
                  status public.status NOT NULL DEFAULT 'new');
              CREATE INDEX orders_status ON public.orders (status);
              CREATE VIEW public.open_orders AS SELECT id, status FROM public.orders
                  WHERE status <> 'shipped';",
        hazards: &[],
        plan_has: &[
            "CREATE TYPE public.zdm_new_status AS ENUM ('new', 'paid', 'shipped');",
            "status::text::public.zdm_new_status",
            "DROP TYPE public.status;\nALTER TYPE public.zdm_new_status RENAME TO status;",
            "!ALTER COLUMN status TYPE",
        ],
    },
    Case {
        name: "values reordered; the enum used by two tables, one of them an array column",
        old: "CREATE TYPE public.\"Size\" AS ENUM ('large', 'small', 'medium');
              CREATE TABLE public.shirts (id int PRIMARY KEY, size public.\"Size\");
              CREATE TABLE public.\"select\" (id int PRIMARY KEY, sizes public.\"Size\"[]);
              INSERT INTO public.shirts VALUES (1, 'small'), (2, 'large'), (3, NULL);
              INSERT INTO public.\"select\" VALUES (1, '{small,large}'), (2, '{}');",
        new: "CREATE TYPE public.\"Size\" AS ENUM ('small', 'medium', 'large');
              CREATE TABLE public.shirts (id int PRIMARY KEY, size public.\"Size\");
              CREATE TABLE public.\"select\" (id int PRIMARY KEY, sizes public.\"Size\"[]);",
        hazards: &[],
        plan_has: &[
            "CREATE TYPE public.\"zdm_new_Size\" AS ENUM ('small', 'medium', 'large');",
            "sizes::text[]::public.\"zdm_new_Size\"[]",
            "DROP TYPE public.\"Size\";",
        ],
    },
    Case {
        name: "an empty table converted in place, a new table on the new values",
        old: "CREATE TYPE public.mood AS ENUM ('sad', 'meh', 'ok');
              CREATE TABLE public.t (m public.mood DEFAULT 'ok');",
        new: "CREATE TYPE public.mood AS ENUM ('ok', 'sad');
              CREATE TABLE public.t (m public.mood DEFAULT 'ok');
              CREATE TABLE public.u (m public.mood);",
        hazards: &[],
        plan_has: &["ALTER TYPE public.zdm_new_mood RENAME TO mood;"],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enum_rebuild_cases() {
    run_all(CASES).await;
}

/// A row holds a value the files remove: refused before anything runs, with the count, at
/// the statement that declares the type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_value_still_in_use_is_refused_with_the_count() {
    let db = common::test_db().await;
    db.client
        .batch_execute(
            "CREATE TYPE public.status AS ENUM ('new', 'void', 'paid');
             CREATE TABLE public.orders (id int PRIMARY KEY, status public.status,
                 tags public.status[]);
             INSERT INTO public.orders VALUES (1, 'void', NULL), (2, 'void', NULL),
                 (3, 'new', '{paid,void}'), (4, 'paid', '{new}');",
        )
        .await
        .unwrap();
    let dir = schema_dir(
        "CREATE TABLE public.orders (id int PRIMARY KEY, status public.status, tags public.status[],
    note text);
CREATE TYPE public.status AS ENUM ('new', 'paid');",
    );
    let run = zdm_on(&["plan"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("schema.sql:3:1")
            && run.stderr.contains("no longer has the value(s) 'void'")
            && run.stderr.contains("2 row(s) of public.orders.status")
            && run.stderr.contains("1 row(s) of public.orders.tags"),
        "{}",
        run.text()
    );
    let apply = cli_support::apply_all(&db.conninfo, dir.path()).await;
    assert_eq!(apply.code, 2, "{}", apply.text());
    // Nothing ran: no new column, the old type as it was.
    assert!(!cli_support::column_exists(&db, "orders", "note").await);
    let labels: String = db
        .client
        .query_one(
            "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum
             WHERE enumtypid = 'public.status'::regtype",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(labels, "new,void,paid");
    // Once the rows moved off it, the same files apply.
    db.client
        .batch_execute(
            "UPDATE public.orders SET status = 'new' WHERE status = 'void';
             UPDATE public.orders SET tags = '{paid}' WHERE 'void' = ANY(tags);",
        )
        .await
        .unwrap();
    let apply = cli_support::apply_all(&db.conninfo, dir.path()).await;
    assert_eq!(apply.code, 0, "{}", apply.text());
    let diff = zdm_on(&["diff"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(diff.code, 0, "{}", diff.text());
}

/// A domain over the enum: PostgreSQL cannot change a domain's base type, so the plan is
/// refused naming the domain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_over_the_enum_is_refused() {
    let db = common::test_db().await;
    db.client
        .batch_execute(
            "CREATE TYPE public.status AS ENUM ('a', 'b', 'c');
             CREATE DOMAIN public.st AS public.status;",
        )
        .await
        .unwrap();
    let dir = schema_dir(
        "CREATE TYPE public.status AS ENUM ('c', 'a');
CREATE DOMAIN public.st AS public.status;",
    );
    let run = zdm_on(&["plan"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stderr.contains("domain public.st"), "{}", run.text());
}
