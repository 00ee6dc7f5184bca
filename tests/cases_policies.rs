//! Row-level security case by case (see `kinds_support`): policies created, altered in place
//! with `ALTER POLICY`, dropped and created in one transaction when their command or kind
//! changes, re-created around a change under a column they read; `ENABLE` / `FORCE` after
//! the policies they need, with the `access-change` hazard when the table is in use. And one
//! reading client: with the policy created first it never sees an empty table.

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use kinds_support::{run_all, Case};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Roles are cluster-wide: each case creates the ones it names (cases run side by side).
macro_rules! roles {
    () => {
        "DO $$ BEGIN CREATE ROLE rls_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
         DO $$ BEGIN CREATE ROLE \"select\"; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
         DO $$ BEGIN CREATE ROLE \"Rôle \"\"x\"\"\"; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
         CREATE TABLE public.t (id integer PRIMARY KEY, tenant integer NOT NULL, owner text);\n"
    };
}

/// The live side: the same, with rows in the table.
macro_rules! seeded {
    () => {
        concat!(
            roles!(),
            "INSERT INTO public.t VALUES (1, 1, 'a'), (2, 2, 'b');\n"
        )
    };
}

static CASES: &[Case] = &[
    Case {
        name: "add a policy and enable row level security on a table in use",
        old: seeded!(),
        new: concat!(
            roles!(),
            "CREATE POLICY tenant_one ON public.t FOR SELECT TO rls_reader USING (tenant = 1);
             ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;"
        ),
        hazards: &["access-change"],
        plan_has: &[
            "CREATE POLICY tenant_one ON public.t AS PERMISSIVE FOR SELECT TO rls_reader USING ((tenant = 1));",
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;",
        ],
    },
    Case {
        name: "a policy on a new table: no hazard",
        old: seeded!(),
        new: concat!(
            roles!(),
            "CREATE TABLE public.n (id integer);
             ALTER TABLE public.n ENABLE ROW LEVEL SECURITY;
             CREATE POLICY p ON public.n USING (id > 0);"
        ),
        hazards: &[],
        plan_has: &["CREATE POLICY p ON public.n AS PERMISSIVE FOR ALL TO PUBLIC USING ((id > 0));"],
    },
    Case {
        name: "alter USING in place",
        old: concat!(
            seeded!(),
            "CREATE POLICY p ON public.t USING (tenant = 1);"
        ),
        new: concat!(
            roles!(),
            "CREATE POLICY p ON public.t USING (tenant = 2) WITH CHECK (tenant > 0);"
        ),
        hazards: &[],
        plan_has: &[
            "ALTER POLICY p ON public.t TO PUBLIC USING ((tenant = 2)) WITH CHECK ((tenant > 0));",
            "!DROP POLICY",
        ],
    },
    Case {
        name: "roles list with a role named select, altered in place under RLS",
        old: concat!(
            seeded!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             CREATE POLICY p ON public.t TO rls_reader USING (true);"
        ),
        new: concat!(
            roles!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             CREATE POLICY p ON public.t TO \"select\", rls_reader, \"Rôle \"\"x\"\"\" USING (true);"
        ),
        hazards: &["access-change"],
        plan_has: &["ALTER POLICY p ON public.t TO \"Rôle \"\"x\"\"\", rls_reader, \"select\" USING (true);"],
    },
    Case {
        name: "change the command: dropped and created in one step",
        old: concat!(
            seeded!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             CREATE POLICY p ON public.t FOR SELECT USING (tenant = 1);"
        ),
        new: concat!(
            roles!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             CREATE POLICY p ON public.t FOR ALL USING (tenant = 1);"
        ),
        hazards: &[],
        plan_has: &[
            "DROP POLICY p ON public.t;\n-- zdm: re-create\n",
            "CREATE POLICY p ON public.t AS PERMISSIVE FOR ALL",
        ],
    },
    Case {
        name: "permissive becomes restrictive; a WITH CHECK removed",
        old: concat!(
            seeded!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             CREATE POLICY p ON public.t USING (true);
             CREATE POLICY r ON public.t USING (tenant = 1);
             CREATE POLICY w ON public.t FOR UPDATE USING (true) WITH CHECK (tenant = 1);"
        ),
        new: concat!(
            roles!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             CREATE POLICY p ON public.t USING (true);
             CREATE POLICY r ON public.t AS RESTRICTIVE USING (tenant = 1);
             CREATE POLICY w ON public.t FOR UPDATE USING (true);"
        ),
        hazards: &[],
        plan_has: &["AS RESTRICTIVE FOR ALL TO PUBLIC", "DROP POLICY w ON public.t;"],
    },
    Case {
        name: "force row level security on a table in use",
        old: concat!(
            seeded!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             CREATE POLICY p ON public.t USING (true);"
        ),
        new: concat!(
            roles!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             ALTER TABLE public.t FORCE ROW LEVEL SECURITY;
             CREATE POLICY p ON public.t USING (true);"
        ),
        hazards: &["access-change"],
        plan_has: &["ALTER TABLE public.t FORCE ROW LEVEL SECURITY;"],
    },
    Case {
        name: "drop a restrictive policy and disable row level security",
        old: concat!(
            seeded!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             ALTER TABLE public.t FORCE ROW LEVEL SECURITY;
             CREATE POLICY p ON public.t USING (true);
             CREATE POLICY r ON public.t AS RESTRICTIVE USING (tenant = 1);"
        ),
        new: roles!(),
        hazards: &["access-change"],
        plan_has: &[
            "ALTER TABLE public.t DISABLE ROW LEVEL SECURITY;",
            "ALTER TABLE public.t NO FORCE ROW LEVEL SECURITY;",
            "DROP POLICY r ON public.t;",
        ],
    },
    Case {
        name: "a policy over a retyped column is re-created around the change",
        old: concat!(
            seeded!(),
            "CREATE TABLE public.u (id integer, code integer);
             CREATE POLICY p ON public.u USING (code > 0);"
        ),
        new: concat!(
            roles!(),
            "CREATE TABLE public.u (id integer, code bigint);
             CREATE POLICY p ON public.u USING (code > 0);"
        ),
        // The table is empty: retyping it in place is harmless.
        hazards: &[],
        plan_has: &["DROP POLICY p ON public.u;"],
    },
    Case {
        name: "a policy over a dropped column is dropped in the same step",
        old: concat!(
            seeded!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             CREATE POLICY p ON public.t USING (owner = current_user);
             CREATE POLICY q ON public.t USING (tenant = 1);"
        ),
        new: "DO $$ BEGIN CREATE ROLE rls_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
             CREATE TABLE public.t (id integer PRIMARY KEY, tenant integer NOT NULL);
             ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             CREATE POLICY q ON public.t USING (tenant = 1);",
        hazards: &["access-change", "data-loss"],
        plan_has: &["DROP POLICY p ON public.t;"],
    },
    Case {
        name: "hostile policy names: quotes, unicode, reserved words; renamed = created then dropped",
        old: concat!(
            seeded!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             CREATE POLICY \"select\" ON public.t USING (true);"
        ),
        new: concat!(
            roles!(),
            "ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;
             CREATE POLICY \"Pölicy \"\"q\"\" ;\" ON public.t FOR SELECT TO \"select\" USING (true);
             COMMENT ON POLICY \"Pölicy \"\"q\"\" ;\" ON public.t IS 'it''s here';"
        ),
        hazards: &["access-change"],
        plan_has: &[
            "CREATE POLICY \"Pölicy \"\"q\"\" ;\" ON public.t",
            "DROP POLICY \"select\" ON public.t;",
        ],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_cases_converge() {
    run_all(CASES).await;
}

const ROWS: i64 = 200;

/// A client reads the table as a non-owner role in a loop while `zdm apply` enables row
/// level security with a policy admitting every row: the policy is created before the
/// `ENABLE`, so no read comes back empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reading_client_never_sees_an_empty_table() {
    let db = common::test_db().await;
    let base = "DO $$ BEGIN CREATE ROLE rls_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
         CREATE TABLE public.items (id integer PRIMARY KEY);
         GRANT SELECT ON public.items TO rls_app;\n";
    db.client
        .batch_execute(&format!(
            "{base}INSERT INTO public.items SELECT g FROM generate_series(1, {ROWS}) g;"
        ))
        .await
        .unwrap();
    let dir = cli_support::schema_dir(&format!(
        "{base}CREATE POLICY everyone ON public.items FOR SELECT TO rls_app USING (true);
         ALTER TABLE public.items ENABLE ROW LEVEL SECURITY;"
    ));
    let plan =
        cli_support::zdm_on(&["plan"], &db.conninfo, dir.path(), &["--format", "json"]).await;
    assert!(
        plan.stdout.contains("access-change")
            && plan
                .stdout
                .contains("changes what the running application reads"),
        "the ENABLE carries its hazard:\n{}",
        plan.text()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let (client, conn) = tokio_postgres::connect(&db.conninfo, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client.batch_execute("SET ROLE rls_app").await.unwrap();
    let reader = {
        let (stop, reads) = (stop.clone(), reads.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let row = client
                    .query_one("SELECT count(*) FROM public.items", &[])
                    .await
                    .unwrap();
                seen.push(row.get::<_, i64>(0));
                reads.fetch_add(1, Ordering::Relaxed);
            }
            seen
        })
    };
    let apply = cli_support::apply_all(&db.conninfo, dir.path()).await;
    // A few reads after the migration, under the policy.
    let after = reads.load(Ordering::Relaxed);
    while reads.load(Ordering::Relaxed) < after + 5 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let seen = reader.await.unwrap();
    assert_eq!(apply.code, 0, "apply failed:\n{}", apply.text());
    let rls: bool = db
        .client
        .query_one(
            "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.items'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(rls, "row level security is on after apply");
    assert!(
        seen.len() > 10,
        "the client kept reading ({} reads)",
        seen.len()
    );
    let wrong: Vec<&i64> = seen.iter().filter(|n| **n != ROWS).collect();
    assert!(
        wrong.is_empty(),
        "the reader saw {} of {} reads without all {ROWS} rows: {:?}",
        wrong.len(),
        seen.len(),
        &wrong[..wrong.len().min(10)]
    );

    // The control: enabling without a policy is what the reader would have noticed.
    let (control, conn) = tokio_postgres::connect(&db.conninfo, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    db.client
        .batch_execute("DROP POLICY everyone ON public.items")
        .await
        .unwrap();
    control.batch_execute("SET ROLE rls_app").await.unwrap();
    let n: i64 = control
        .query_one("SELECT count(*) FROM public.items", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "without the policy the non-owner sees nothing");
}
