//! Event triggers, case by case (see `kinds_support`): created after their function, altered
//! in place (enabled state, comment, name), re-created in one step when the event, tags or
//! function change, dropped before their function; hostile names. A live role that is not a
//! superuser gets a refusal at the statement, before anything runs.

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use cli_support::{schema_dir, zdm_on};
use kinds_support::{run_all, Case};

static CASES: &[Case] = &[
    Case {
        name: "created with tags, a comment and a disabled state, after their function",
        old: "",
        new: "CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql
                  AS $$ BEGIN NULL; END $$;
              CREATE EVENT TRIGGER log_tables ON ddl_command_end
                  WHEN TAG IN ('CREATE TABLE', 'alter table')
                  EXECUTE FUNCTION public.log_ddl();
              CREATE EVENT TRIGGER log_drops ON sql_drop EXECUTE FUNCTION public.log_ddl();
              ALTER EVENT TRIGGER log_drops DISABLE;
              COMMENT ON EVENT TRIGGER log_tables IS 'audit';",
        hazards: &[],
        plan_has: &[
            "CREATE EVENT TRIGGER log_tables ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION public.log_ddl();",
            "ALTER EVENT TRIGGER log_drops DISABLE;",
            "COMMENT ON EVENT TRIGGER log_tables IS 'audit';",
        ],
    },
    Case {
        name: "enabled state and comment changed in place, one renamed",
        old: "CREATE FUNCTION public.f() RETURNS event_trigger LANGUAGE plpgsql
                  AS $$ BEGIN NULL; END $$;
              CREATE EVENT TRIGGER a ON ddl_command_start EXECUTE FUNCTION public.f();
              CREATE EVENT TRIGGER b ON sql_drop EXECUTE FUNCTION public.f();
              COMMENT ON EVENT TRIGGER a IS 'old';
              CREATE EVENT TRIGGER old_name ON table_rewrite EXECUTE FUNCTION public.f();",
        new: "CREATE FUNCTION public.f() RETURNS event_trigger LANGUAGE plpgsql
                  AS $$ BEGIN NULL; END $$;
              CREATE EVENT TRIGGER a ON ddl_command_start EXECUTE FUNCTION public.f();
              ALTER EVENT TRIGGER a ENABLE ALWAYS;
              CREATE EVENT TRIGGER b ON sql_drop EXECUTE FUNCTION public.f();
              ALTER EVENT TRIGGER b ENABLE REPLICA;
              COMMENT ON EVENT TRIGGER a IS 'new';
              CREATE EVENT TRIGGER new_name ON table_rewrite EXECUTE FUNCTION public.f();",
        hazards: &[],
        plan_has: &[
            "ALTER EVENT TRIGGER a ENABLE ALWAYS;",
            "ALTER EVENT TRIGGER b ENABLE REPLICA;",
            "COMMENT ON EVENT TRIGGER a IS 'new';",
            "ALTER EVENT TRIGGER old_name RENAME TO new_name;",
            "!DROP EVENT TRIGGER",
            "!CREATE EVENT TRIGGER",
        ],
    },
    Case {
        name: "event, tags and function changed: dropped and created in one step",
        old: "CREATE FUNCTION public.f() RETURNS event_trigger LANGUAGE plpgsql
                  AS $$ BEGIN NULL; END $$;
              CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION public.f();
              CREATE EVENT TRIGGER t ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
                  EXECUTE FUNCTION public.f();
              CREATE EVENT TRIGGER g ON sql_drop EXECUTE FUNCTION public.f();",
        new: "CREATE FUNCTION public.f() RETURNS event_trigger LANGUAGE plpgsql
                  AS $$ BEGIN NULL; END $$;
              CREATE FUNCTION public.g() RETURNS event_trigger LANGUAGE plpgsql
                  AS $$ BEGIN NULL; END $$;
              CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION public.f();
              CREATE EVENT TRIGGER t ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'CREATE VIEW')
                  EXECUTE FUNCTION public.f();
              CREATE EVENT TRIGGER g ON sql_drop EXECUTE FUNCTION public.g();",
        hazards: &[],
        plan_has: &[
            "DROP EVENT TRIGGER IF EXISTS e;\nCREATE EVENT TRIGGER e ON ddl_command_end",
            "DROP EVENT TRIGGER IF EXISTS t;\nCREATE EVENT TRIGGER t ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'CREATE VIEW')",
            "DROP EVENT TRIGGER IF EXISTS g;\nCREATE EVENT TRIGGER g ON sql_drop EXECUTE FUNCTION public.g();",
        ],
    },
    Case {
        name: "dropped with its function, the trigger first",
        old: "CREATE FUNCTION public.f() RETURNS event_trigger LANGUAGE plpgsql
                  AS $$ BEGIN NULL; END $$;
              CREATE EVENT TRIGGER gone ON ddl_command_start EXECUTE FUNCTION public.f();
              CREATE EVENT TRIGGER kept ON sql_drop EXECUTE FUNCTION public.f();",
        new: "CREATE FUNCTION public.f() RETURNS event_trigger LANGUAGE plpgsql
                  AS $$ BEGIN NULL; END $$;
              CREATE EVENT TRIGGER kept ON sql_drop EXECUTE FUNCTION public.f();",
        hazards: &[],
        plan_has: &["DROP EVENT TRIGGER IF EXISTS gone;"],
    },
    Case {
        name: "the last event trigger and its function dropped",
        old: "CREATE FUNCTION public.f() RETURNS event_trigger LANGUAGE plpgsql
                  AS $$ BEGIN NULL; END $$;
              CREATE EVENT TRIGGER gone ON ddl_command_start EXECUTE FUNCTION public.f();",
        new: "CREATE TABLE public.t (id int);",
        hazards: &[],
        plan_has: &["DROP EVENT TRIGGER IF EXISTS gone;"],
    },
    Case {
        name: "hostile names: quotes, unicode, reserved words",
        old: "",
        new: "CREATE SCHEMA \"from\";
              CREATE FUNCTION \"from\".\"select \"\"ñ\"\"\"() RETURNS event_trigger
                  LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;
              CREATE EVENT TRIGGER \"order \"\"ü\"\"\" ON ddl_command_end
                  WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION \"from\".\"select \"\"ñ\"\"\"();
              CREATE EVENT TRIGGER \"table\" ON sql_drop
                  EXECUTE FUNCTION \"from\".\"select \"\"ñ\"\"\"();
              ALTER EVENT TRIGGER \"table\" DISABLE;
              COMMENT ON EVENT TRIGGER \"order \"\"ü\"\"\" IS 'it''s';",
        hazards: &[],
        plan_has: &[
            "CREATE EVENT TRIGGER \"order \"\"ü\"\"\" ON ddl_command_end",
            "EXECUTE FUNCTION \"from\".\"select \"\"ñ\"\"\"();",
            "ALTER EVENT TRIGGER \"table\" DISABLE;",
        ],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_trigger_cases() {
    run_all(CASES).await;
}

/// The live role is no superuser (the shadow's loader is): the plan is refused at the
/// statement that declares the trigger, and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_role_that_is_no_superuser_is_refused_at_the_statement() {
    let db = common::test_db().await;
    let role = format!("zdm_evt_{:08x}", rand::random::<u32>());
    db.client
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN NOSUPERUSER;
             GRANT ALL ON SCHEMA public TO {role};
             CREATE TABLE public.t (id int);
             ALTER TABLE public.t OWNER TO {role};"
        ))
        .await
        .unwrap();
    let dir = schema_dir(
        "CREATE TABLE public.t (id int, note text);
CREATE FUNCTION public.f() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;
CREATE EVENT TRIGGER audit ON ddl_command_end EXECUTE FUNCTION public.f();",
    );
    let as_role = format!("{} user={role}", db.conninfo);
    let apply: &[&str] = &["apply", "--phase", "all", "--skip-rollback-window", "--yes"];
    for args in [&["plan"][..], apply] {
        let verb = args[0];
        let run = zdm_on(args, &as_role, dir.path(), &[]).await;
        assert_eq!(run.code, 2, "{verb}: {}", run.text());
        assert!(
            run.stderr.contains("schema.sql:3:1")
                && run.stderr.contains("cannot create event trigger audit")
                && run.stderr.contains("is not a superuser"),
            "{verb}: {}",
            run.text()
        );
    }
    // Nothing ran: the column and the function are not there.
    let columns: i64 = db
        .client
        .query_one(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.t'::regclass AND attnum > 0",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(columns, 1);
    // The same files as a superuser: planned and applied.
    let apply = cli_support::apply_all(&db.conninfo, dir.path()).await;
    assert_eq!(apply.code, 0, "{}", apply.text());
    // Dropping it needs a superuser too: refused by name (no statement declares it).
    let dir = schema_dir(
        "CREATE TABLE public.t (id int, note text);
CREATE FUNCTION public.f() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;",
    );
    let run = zdm_on(&["plan"], &as_role, dir.path(), &[]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("cannot drop event trigger audit"),
        "{}",
        run.text()
    );
    // Unchanged, nothing to refuse: a plan of other changes goes on.
    let dir = schema_dir(
        "CREATE TABLE public.t (id int, note text, more int);
CREATE FUNCTION public.f() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;
CREATE EVENT TRIGGER audit ON ddl_command_end EXECUTE FUNCTION public.f();",
    );
    let run = zdm_on(&["plan"], &as_role, dir.path(), &[]).await;
    assert_eq!(run.code, 1, "{}", run.text());
}

/// `zdm dump` writes event triggers (hostile names, tags, disabled state, comment) to
/// `event_triggers.sql` in every layout; the dump diffs clean and dumps again the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_round_trip() {
    let db = common::test_db().await;
    db.client
        .batch_execute(
            "CREATE SCHEMA \"from\";
             CREATE FUNCTION \"from\".\"select \"\"ñ\"\"\"() RETURNS event_trigger
                 LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;
             CREATE EVENT TRIGGER \"order \"\"ü\"\"\" ON ddl_command_end
                 WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
                 EXECUTE FUNCTION \"from\".\"select \"\"ñ\"\"\"();
             CREATE EVENT TRIGGER \"table\" ON sql_drop
                 EXECUTE FUNCTION \"from\".\"select \"\"ñ\"\"\"();
             ALTER EVENT TRIGGER \"table\" ENABLE ALWAYS;
             COMMENT ON EVENT TRIGGER \"order \"\"ü\"\"\" IS 'it''s';",
        )
        .await
        .unwrap();
    for layout in ["flat", "per-schema", "per-object"] {
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().display().to_string();
        let dump = |dir: String| {
            let conninfo = db.conninfo.clone();
            async move {
                cli_support::zdm(&["dump", "--db", &conninfo, "--out", &dir, "--layout", layout])
                    .await
            }
        };
        let first = dump(dir.clone()).await;
        assert_eq!(first.code, 0, "{layout}: {}", first.text());
        let file = match layout {
            "flat" => "schema.sql",
            _ => "event_triggers.sql",
        };
        let text = std::fs::read_to_string(out.path().join(file)).unwrap();
        for want in [
            "CREATE EVENT TRIGGER \"order \"\"ü\"\"\" ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION \"from\".\"select \"\"ñ\"\"\"();",
            "ALTER EVENT TRIGGER \"table\" ENABLE ALWAYS;",
            "COMMENT ON EVENT TRIGGER \"order \"\"ü\"\"\" IS 'it''s';",
        ] {
            assert!(text.contains(want), "{layout}: {want}\n{text}");
        }
        let diff = zdm_on(&["diff"], &db.conninfo, out.path(), &[]).await;
        assert_eq!(diff.code, 0, "{layout}: {}\n{text}", diff.text());
        let again = tempfile::tempdir().unwrap();
        let second = dump(again.path().display().to_string()).await;
        assert_eq!(second.code, 0, "{layout}: {}", second.text());
        assert_eq!(
            std::fs::read_to_string(again.path().join(file)).unwrap(),
            text,
            "{layout}"
        );
    }
}
