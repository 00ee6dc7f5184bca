//! Triggers, case by case (see `kinds_support`): created after their table and function,
//! redefined with `CREATE OR REPLACE TRIGGER` (14+), enabled and disabled in place; a new
//! body of the trigger function leaves the trigger alone.

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use kinds_support::{run_all, Case};

const BASE: &str =
    "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;\n";

static CASES: &[Case] = &[
    Case {
        name: "add a trigger with its function",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);
              CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
              CREATE TRIGGER t_touch BEFORE UPDATE ON public.t
                  FOR EACH ROW EXECUTE FUNCTION public.touch();
              COMMENT ON TRIGGER t_touch ON public.t IS 'keeps updated_at';",
        hazards: &[],
        plan_has: &["CREATE TRIGGER t_touch", "COMMENT ON TRIGGER"],
    },
    Case {
        name: "the trigger's function changes: the trigger stays",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);
              CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
              CREATE TRIGGER t_touch BEFORE UPDATE ON public.t
                  FOR EACH ROW EXECUTE FUNCTION public.touch();",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);
              CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$;
              CREATE TRIGGER t_touch BEFORE UPDATE ON public.t
                  FOR EACH ROW EXECUTE FUNCTION public.touch();",
        hazards: &[],
        plan_has: &[
            "CREATE OR REPLACE FUNCTION public.touch()",
            "!TRIGGER t_touch",
        ],
    },
    Case {
        name: "the trigger moves to another function",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);
              CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
              CREATE TRIGGER t_touch BEFORE UPDATE ON public.t
                  FOR EACH ROW EXECUTE FUNCTION public.touch();",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);
              CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN NEW.updated_at := now(); NEW.name := trim(NEW.name); RETURN NEW; END $$;
              CREATE TRIGGER t_touch BEFORE INSERT OR UPDATE OF name ON public.t
                  FOR EACH ROW WHEN (NEW.name IS NOT NULL) EXECUTE FUNCTION public.stamp();",
        hazards: &[],
        plan_has: &[
            "CREATE OR REPLACE TRIGGER t_touch",
            "DROP FUNCTION public.touch()",
        ],
    },
    Case {
        name: "disable a trigger",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);
              CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
              CREATE TRIGGER t_touch BEFORE UPDATE ON public.t
                  FOR EACH ROW EXECUTE FUNCTION public.touch();",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);
              CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
              CREATE TRIGGER t_touch BEFORE UPDATE ON public.t
                  FOR EACH ROW EXECUTE FUNCTION public.touch();
              ALTER TABLE public.t DISABLE TRIGGER t_touch;",
        hazards: &[],
        plan_has: &["DISABLE TRIGGER t_touch"],
    },
    Case {
        name: "drop a trigger and its function",
        old: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);
              CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
              CREATE TRIGGER t_touch BEFORE UPDATE ON public.t
                  FOR EACH ROW EXECUTE FUNCTION public.touch();",
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);",
        hazards: &[],
        plan_has: &[
            "DROP TRIGGER t_touch ON public.t",
            "DROP FUNCTION public.touch()",
        ],
    },
    Case {
        name: "a constraint trigger, a statement trigger with a transition table, a view trigger",
        old: BASE,
        new: "CREATE TABLE public.t (id integer PRIMARY KEY, name text, updated_at timestamptz);
              CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
              CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN RETURN NULL; END $$;
              CREATE CONSTRAINT TRIGGER t_check AFTER INSERT ON public.t
                  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.noop();
              CREATE TRIGGER t_batch AFTER INSERT ON public.t REFERENCING NEW TABLE AS added
                  FOR EACH STATEMENT EXECUTE FUNCTION public.noop();
              CREATE VIEW public.tv AS SELECT id, name FROM public.t;
              CREATE TRIGGER tv_insert INSTEAD OF INSERT ON public.tv
                  FOR EACH ROW EXECUTE FUNCTION public.noop();",
        hazards: &[],
        plan_has: &["CREATE CONSTRAINT TRIGGER t_check", "INSTEAD OF INSERT"],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_cases() {
    run_all(CASES).await;
}
