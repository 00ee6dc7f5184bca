//! Table inheritance, case by case (see `kinds_support`): children created after their
//! parents without the columns and checks they inherit, a parent's new column reaching its
//! children, a parent's dropped column kept by a child that declares it, and parents gained
//! (`INHERIT`) or lost (`NO INHERIT`) with the hazard that queries on the parent change.

mod cli_support;
mod common;
#[allow(dead_code)]
mod conformance;
mod kinds_support;

use kinds_support::{run_all, Case};

static CASES: &[Case] = &[
    Case {
        name: "children with checks and keys of their own",
        old: "",
        new: "CREATE TABLE public.entity (id bigserial, kind text NOT NULL,
                  CONSTRAINT kind_known CHECK (kind <> ''));
              CREATE TABLE public.entity_a (CONSTRAINT is_a CHECK (kind = 'A'), UNIQUE (id))
                  INHERITS (public.entity);
              CREATE TABLE public.entity_b (extra integer) INHERITS (public.entity);",
        hazards: &[],
        plan_has: &["INHERITS (public.entity)"],
    },
    Case {
        name: "a parent's new column reaches its children",
        old: "CREATE TABLE public.p (id integer);
              CREATE TABLE public.c () INHERITS (public.p);",
        new: "CREATE TABLE public.p (id integer, note text);
              CREATE TABLE public.c () INHERITS (public.p);",
        hazards: &[],
        plan_has: &["ALTER TABLE public.p ADD COLUMN note text", "!ALTER TABLE public.c ADD"],
    },
    Case {
        name: "a parent's column dropped, kept by the child that declares it",
        old: "CREATE TABLE public.base (created_at timestamp DEFAULT now(), e integer);
              CREATE TABLE public.a (a1 integer, a2 integer) INHERITS (public.base);",
        new: "CREATE TABLE public.base (created_at timestamp DEFAULT now());
              CREATE TABLE public.a (a1 integer, e integer) INHERITS (public.base);",
        hazards: &["data-loss"],
        plan_has: &["ALTER TABLE ONLY public.base DROP COLUMN e", "DROP COLUMN a2"],
    },
    Case {
        // The child declares the columns itself: a column it had before `INHERIT` stays its
        // own (`attislocal`), which only a new table could change.
        name: "a parent gained: the child gets the missing column, then INHERIT",
        old: "CREATE TABLE public.p (id integer NOT NULL, note text);
              CREATE TABLE public.c (id integer NOT NULL);",
        new: "CREATE TABLE public.p (id integer NOT NULL, note text);
              CREATE TABLE public.c (id integer NOT NULL, note text) INHERITS (public.p);",
        hazards: &["access-change"],
        plan_has: &["ALTER TABLE public.c ADD COLUMN note text", "ALTER TABLE public.c INHERIT public.p"],
    },
    Case {
        name: "a parent lost: NO INHERIT, and the column it gave dropped after",
        old: "CREATE TABLE public.p (id integer, note text);
              CREATE TABLE public.c (id integer) INHERITS (public.p);",
        new: "CREATE TABLE public.p (id integer, note text);
              CREATE TABLE public.c (id integer);",
        hazards: &["access-change", "data-loss"],
        plan_has: &["ALTER TABLE public.c NO INHERIT public.p", "ALTER TABLE public.c DROP COLUMN note"],
    },
    Case {
        name: "hostile names: quotes, unicode, reserved words",
        old: "",
        new: "CREATE TABLE public.\"select\" (\"from\" integer);
              CREATE TABLE public.\"ñ \"\"child\"\"\" (\"order\" text) INHERITS (public.\"select\");",
        hazards: &[],
        plan_has: &["INHERITS (public.\"select\")"],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inheritance_cases() {
    run_all(CASES).await;
}
