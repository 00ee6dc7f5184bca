//! Parsing the desired schema: statement spans, error locations, rejected statements,
//! annotations, references and load order.

use zdm::model::QualifiedName;
use zdm::parse::{
    parse_desired, AnnotationKind, DesiredSchema, ObjectName, ParseErrorKind, ParseErrors,
    StatementKind,
};
use zdm::source::SourceSet;

fn parse(files: &[(&str, &str)]) -> Result<DesiredSchema, ParseErrors> {
    parse_desired(SourceSet::from_texts(files.iter().copied()))
}

fn errors(files: &[(&str, &str)]) -> ParseErrors {
    match parse(files) {
        Ok(s) => panic!("expected errors, parsed {} statements", s.statements.len()),
        Err(e) => e,
    }
}

/// The only error, as `path:line:col: message`.
fn one_error(files: &[(&str, &str)]) -> (ParseErrorKind, String) {
    let e = errors(files);
    assert_eq!(e.0.len(), 1, "{e}");
    (e.0[0].kind, e.0[0].to_string())
}

fn q(name: &str) -> QualifiedName {
    let (s, n) = name.split_once('.').unwrap();
    QualifiedName::new(s, n)
}

#[test]
fn statements_keep_spans_without_leading_comments() {
    let text = "-- header\n/* block */\nCREATE TABLE a (x int) ;\n\n  -- about b\n  CREATE TABLE b (y int);\nCREATE TABLE c (z int)";
    let schema = parse(&[("s.sql", text)]).unwrap();
    let texts: Vec<&str> = schema.statements.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "CREATE TABLE a (x int)",
            "CREATE TABLE b (y int)",
            "CREATE TABLE c (z int)"
        ]
    );
    let b = &schema.statements[1];
    assert_eq!(&text[b.span.start..b.span.end], "CREATE TABLE b (y int)");
    assert_eq!(schema.sources.location(b.span).to_string(), "s.sql:6:3");
}

#[test]
fn syntax_error_location_ascii() {
    let (kind, msg) = one_error(&[(
        "a.sql",
        "CREATE TABLE a (x int);\n\nCREATE TABLE b (\n  y int,\n  z itn4 NOT NUL\n);\n",
    )]);
    assert_eq!(kind, ParseErrorKind::Syntax);
    assert_eq!(msg, "a.sql:5:14: syntax error at or near \"NUL\"");
}

#[test]
fn syntax_error_location_after_multibyte_text() {
    // Third statement, after a line with multi-byte characters; the error is on that line too.
    let text = "CREATE TABLE t (a text);\nCOMMENT ON TABLE t IS 'héllo ünïcode';\nCOMMENT ON COLUMN t.a IS 'ünï'; CREATE TABEL u (b int);\n";
    let (kind, msg) = one_error(&[("m.sql", text)]);
    assert_eq!(kind, ParseErrorKind::Syntax);
    // `TABEL` is the 40th character of line 3 (the line has 3 two-byte characters before it).
    assert_eq!(msg, "m.sql:3:40: syntax error at or near \"TABEL\"");

    let text = "CREATE TABLE t (a text);\nCOMMENT ON TABLE t IS 'héllo ünïcode';\nCREATE TABLE u (b int,, c int);\n";
    let (_, msg) = one_error(&[("m.sql", text)]);
    assert_eq!(msg, "m.sql:3:23: syntax error at or near \",\"");
}

#[test]
fn syntax_errors_render_with_caret() {
    let e = errors(&[(
        "x.sql",
        "CREATE TABLE ok (a int);\nCREATE TABEL t (a int);\n",
    )]);
    assert_eq!(
        e.render(),
        "error: syntax error at or near \"TABEL\"\n --> x.sql:2:8\n  |\n2 | CREATE TABEL t (a int);\n  |        ^"
    );
}

#[test]
fn every_file_reports_its_errors() {
    let e = errors(&[
        ("b.sql", "CREATE TABLE x (a int;"),
        ("a.sql", "UPDATE x SET a = 1;\nDROP TABLE y;"),
    ]);
    let lines: Vec<String> = e.0.iter().map(|e| e.to_string()).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with("a.sql:1:1: data manipulation (UPDATE)"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("a.sql:2:1: DROP TABLE does not belong"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("b.sql:1:22: syntax error"),
        "{}",
        lines[2]
    );
}

#[test]
fn rejects_what_is_not_schema_definition() {
    let cases = [
        ("UPDATE t SET a = 1", "data manipulation (UPDATE)"),
        ("DELETE FROM t", "data manipulation (DELETE)"),
        (
            "MERGE INTO t USING u ON t.a = u.a WHEN MATCHED THEN DELETE",
            "data manipulation (MERGE)",
        ),
        ("COPY t FROM stdin", "data manipulation (COPY)"),
        ("TRUNCATE t", "data manipulation (TRUNCATE)"),
        ("BEGIN", "transaction control (BEGIN)"),
        ("COMMIT", "transaction control (COMMIT)"),
        ("ROLLBACK", "transaction control (ROLLBACK)"),
        ("SAVEPOINT s", "transaction control (SAVEPOINT)"),
        ("DROP TABLE t", "DROP TABLE does not belong"),
        ("DROP INDEX CONCURRENTLY i", "DROP INDEX does not belong"),
        ("DROP ROLE r", "DROP ROLE does not belong"),
        ("SELECT 1", "query (SELECT)"),
        (
            "SELECT pg_catalog.set_config('search_path', '', false) FROM t",
            "query (SELECT)",
        ),
        ("VACUUM t", "VACUUM is not a schema definition"),
        ("LISTEN chan", "LISTEN is not a schema definition"),
        (
            "CREATE DATABASE d",
            "CREATE DATABASE is not part of a database's schema",
        ),
    ];
    for (sql, expected) in cases {
        let text = format!("CREATE TABLE t (a int);\n  {sql};\n");
        let (kind, msg) = one_error(&[("r.sql", &text)]);
        assert_eq!(kind, ParseErrorKind::Rejected, "{sql}");
        assert!(
            msg.starts_with(&format!("r.sql:2:3: {expected}")),
            "{sql}: {msg}"
        );
    }
    // The offending line is shown.
    let e = errors(&[("r.sql", "CREATE TABLE t (a int);\nDELETE FROM t;\n")]);
    assert!(
        e.render().contains("2 | DELETE FROM t;\n  | ^"),
        "{}",
        e.render()
    );
}

#[test]
fn drop_if_exists_before_its_creation_is_the_recreate_idiom() {
    let text = "DROP TABLE IF EXISTS dept_emp, employees CASCADE;
DROP VIEW IF EXISTS app.v;
DROP FUNCTION IF EXISTS f(integer);
DROP TYPE IF EXISTS mood;
CREATE SCHEMA app;
CREATE TABLE employees (id int PRIMARY KEY);
CREATE TABLE dept_emp (id int REFERENCES employees);
CREATE VIEW app.v AS SELECT 1 AS one;
CREATE FUNCTION f(i integer) RETURNS integer LANGUAGE sql AS 'SELECT i';
CREATE TYPE mood AS ENUM ('ok');
INSERT INTO employees VALUES (1);
";
    let schema = parse(&[("s.sql", text)]).unwrap();
    // Only the declarations are loaded.
    assert_eq!(schema.statements.len(), 6, "{:#?}", schema.statements);
    assert!(schema
        .statements
        .iter()
        .all(|s| !s.text.starts_with("DROP") && !s.text.starts_with("INSERT")));
    let notes = schema.notes.join("\n");
    for (at, what) in [
        (
            "s.sql:1:1",
            "relation public.dept_emp, relation public.employees is skipped",
        ),
        ("s.sql:2:1", "relation app.v is skipped"),
        ("s.sql:3:1", "function public.f is skipped"),
        ("s.sql:4:1", "type public.mood is skipped"),
        ("s.sql:11:1", "INSERT INTO public.employees is skipped"),
    ] {
        assert!(
            notes.contains(&format!("{at}: ")) && notes.contains(what),
            "{what}:\n{notes}"
        );
    }
}

#[test]
fn drop_if_exists_of_what_the_files_do_not_create_is_an_error() {
    let (kind, message) = one_error(&[(
        "s.sql",
        "CREATE TABLE kept (id int);\nDROP TABLE IF EXISTS kept, gone;",
    )]);
    assert_eq!(kind, ParseErrorKind::Rejected);
    assert!(
        message.starts_with(
            "s.sql:2:1: DROP ... IF EXISTS of relation public.gone, which the files do not create"
        ),
        "{message}"
    );
    // A DROP of a kind the idiom does not cover (triggers) stays the usual error.
    let (_, message) = one_error(&[("s.sql", "DROP TRIGGER IF EXISTS t ON x;")]);
    assert!(
        message.contains("DROP TRIGGER does not belong"),
        "{message}"
    );
}

#[test]
fn rejects_psql_meta_commands() {
    let text = "\\set ON_ERROR_STOP on\nCREATE TABLE t (a int);\n  \\connect other\nCREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$\nSELECT '\\not a command'\n$$;\n";
    let e = errors(&[("m.sql", text)]);
    let lines: Vec<String> = e.0.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        lines,
        [
            "m.sql:1:1: psql meta-command `\\set` in a schema file",
            "m.sql:3:3: psql meta-command `\\connect` in a schema file",
        ]
    );
    assert!(e.0.iter().all(|e| e.kind == ParseErrorKind::MetaCommand));
}

#[test]
fn tolerates_session_settings_do_blocks_and_roles() {
    let text = r#"SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
SET search_path = app, public;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reader') THEN CREATE ROLE reader; END IF;
END $$;
CREATE ROLE writer LOGIN;
CREATE SCHEMA app;
CREATE TABLE items (id int);
GRANT SELECT ON items TO reader, PUBLIC;
GRANT writer TO "Admin";
ALTER TABLE items OWNER TO owner_role;
ALTER DEFAULT PRIVILEGES FOR ROLE owner_role IN SCHEMA app GRANT SELECT ON TABLES TO reporting;
CREATE POLICY p ON items TO policy_role USING (true);
REVOKE ALL ON items FROM CURRENT_USER;
"#;
    let schema = parse(&[("s.sql", text)]).unwrap();
    let kinds: Vec<&StatementKind> = schema.statements.iter().map(|s| &s.kind).collect();
    assert_eq!(kinds[0], &StatementKind::SessionSetting);
    assert_eq!(kinds[1], &StatementKind::SessionSetting);
    let do_block = schema
        .statements
        .iter()
        .find(|s| s.kind == StatementKind::DoBlock)
        .unwrap();
    assert!(do_block.shadow_only);
    assert!(schema
        .notes
        .iter()
        .any(|n| n.starts_with("s.sql:4:1: DO block")));
    assert!(schema
        .statements
        .iter()
        .any(|s| s.kind == StatementKind::CreateRole("writer".into())));
    let roles: Vec<&str> = schema.roles.iter().map(String::as_str).collect();
    assert_eq!(
        roles,
        [
            "Admin",
            "owner_role",
            "policy_role",
            "reader",
            "reporting",
            "writer"
        ]
    );
    // The search path applies to unqualified names that follow.
    let items = schema
        .statements
        .iter()
        .find(|s| s.text.starts_with("CREATE TABLE items"))
        .unwrap();
    assert!(items
        .provides
        .contains(&ObjectName::Relation(q("app.items"))));
    assert!(items.requires.contains(&ObjectName::Schema("app".into())));
    assert_eq!(items.settings.len(), 3);
    assert_eq!(items.settings[2], "SET search_path = app, public");
}

#[test]
fn references() {
    let text = r#"
CREATE VIEW v AS SELECT o.id FROM orders o JOIN shop.customers c ON c.id = o.customer_id;
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  customer_id int REFERENCES shop.customers (id),
  status mood NOT NULL DEFAULT 'ok',
  total numeric CHECK (positive(total)),
  created timestamptz DEFAULT now()
) ;
CREATE INDEX orders_lower ON orders (lower_status(status));
COMMENT ON COLUMN orders.status IS 'x';
CREATE TABLE orders_2024 PARTITION OF parted FOR VALUES FROM (1) TO (2);
CREATE TABLE child () INHERITS (parent_t);
CREATE SEQUENCE s OWNED BY orders.id;
CREATE TRIGGER trg BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION trg_fn();
GRANT USAGE ON SCHEMA shop TO app;
"#;
    let schema = parse(&[("r.sql", text)]).unwrap();
    let find = |prefix: &str| {
        schema
            .statements
            .iter()
            .find(|s| s.text.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}"))
    };
    let v = find("CREATE VIEW v");
    assert_eq!(
        v.provides,
        [
            ObjectName::Type(q("public.v")),
            ObjectName::Relation(q("public.v"))
        ]
    );
    assert!(v
        .requires
        .contains(&ObjectName::Relation(q("public.orders"))));
    assert!(v
        .requires
        .contains(&ObjectName::Relation(q("shop.customers"))));
    assert!(v.requires.contains(&ObjectName::Schema("shop".into())));

    let orders = find("CREATE TABLE orders (");
    assert!(orders
        .provides
        .contains(&ObjectName::Relation(q("public.orders"))));
    assert!(orders
        .provides
        .contains(&ObjectName::Relation(q("public.orders_id_seq"))));
    for r in [
        ObjectName::Relation(q("shop.customers")),
        ObjectName::Type(q("public.mood")),
        ObjectName::Function(q("public.positive")),
        ObjectName::Schema("shop".into()),
    ] {
        assert!(
            orders.requires.contains(&r),
            "{r} not in {:?}",
            orders.requires
        );
    }
    // Built-in types are not requirements.
    assert!(!orders
        .requires
        .iter()
        .any(|r| matches!(r, ObjectName::Type(t) if t.name == "timestamptz" || t.name == "int4")));

    let idx = find("CREATE INDEX");
    assert_eq!(
        idx.provides,
        [ObjectName::Relation(q("public.orders_lower"))]
    );
    assert!(idx
        .requires
        .contains(&ObjectName::Function(q("public.lower_status"))));
    assert!(find("COMMENT ON COLUMN")
        .requires
        .contains(&ObjectName::Relation(q("public.orders"))));
    assert!(find("CREATE TABLE orders_2024")
        .requires
        .contains(&ObjectName::Relation(q("public.parted"))));
    assert!(find("CREATE TABLE child")
        .requires
        .contains(&ObjectName::Relation(q("public.parent_t"))));
    assert!(find("CREATE SEQUENCE")
        .requires
        .contains(&ObjectName::Relation(q("public.orders"))));
    assert!(find("CREATE TRIGGER")
        .requires
        .contains(&ObjectName::Function(q("public.trg_fn"))));
    assert!(find("GRANT USAGE")
        .requires
        .contains(&ObjectName::Schema("shop".into())));
}

#[test]
fn load_order_follows_references_then_file_position() {
    let schema = parse(&[
        ("a_views.sql", "CREATE VIEW v AS SELECT * FROM app.t;\nCOMMENT ON VIEW v IS 'v';"),
        (
            "b_tables.sql",
            "CREATE TABLE app.t (id int PRIMARY KEY, k app.kind);\nCREATE TYPE app.kind AS ENUM ('a');\nCREATE TABLE other (x int);",
        ),
        ("c_schema.sql", "CREATE SCHEMA app;\nCREATE INDEX ON app.t (id);"),
    ])
    .unwrap();
    let order: Vec<&str> = schema.statements.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        order,
        // Whatever is ready goes first, in file order; a statement waits for what it needs.
        [
            "CREATE TABLE other (x int)",
            "CREATE SCHEMA app",
            "CREATE TYPE app.kind AS ENUM ('a')",
            "CREATE TABLE app.t (id int PRIMARY KEY, k app.kind)",
            "CREATE VIEW v AS SELECT * FROM app.t",
            "COMMENT ON VIEW v IS 'v'",
            "CREATE INDEX ON app.t (id)",
        ]
    );
}

#[test]
fn dependency_cycles_fall_back_to_file_order() {
    let schema = parse(&[(
        "c.sql",
        "CREATE TABLE z (x int);\nCREATE TABLE a (id int PRIMARY KEY, b_id int REFERENCES b);\nCREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);\nCREATE VIEW w AS SELECT * FROM a, b;",
    )])
    .unwrap();
    let order: Vec<&str> = schema.statements.iter().map(|s| &s.text[..14]).collect();
    assert_eq!(
        order,
        [
            "CREATE TABLE z",
            "CREATE TABLE a",
            "CREATE TABLE b",
            "CREATE VIEW w "
        ]
    );
}

#[test]
fn annotations_attach_to_columns_and_tables() {
    let text = r#"SET search_path = app;
-- zdm:renamed-from people
CREATE TABLE users (
  id bigint PRIMARY KEY,
  -- a plain comment
  -- zdm:renamed-from "FullName"
  -- another plain comment
  name text NOT NULL,
  display_name text, -- zdm:backfill coalesce(name, 'ünï') || '!'
  age int -- zdm:using age_text::int
    CHECK (age > 0),
  email text
);
ALTER TABLE users
  -- zdm:backfill lower(email)
  ADD COLUMN email_lower text;
"#;
    let schema = parse(&[("u.sql", text)]).unwrap();
    let got: Vec<(AnnotationKind, String, Option<String>, String)> = schema
        .annotations
        .iter()
        .map(|a| {
            (
                a.kind.clone(),
                a.table.to_string(),
                a.column.clone(),
                schema.sources.location(a.span).to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                AnnotationKind::RenamedFrom("people".into()),
                "app.users".into(),
                None,
                "u.sql:2:1".into()
            ),
            (
                AnnotationKind::RenamedFrom("FullName".into()),
                "app.users".into(),
                Some("name".into()),
                "u.sql:6:3".into()
            ),
            (
                AnnotationKind::Backfill("coalesce(name, 'ünï') || '!'".into()),
                "app.users".into(),
                Some("display_name".into()),
                "u.sql:9:22".into()
            ),
            (
                AnnotationKind::Using("age_text::int".into()),
                "app.users".into(),
                Some("age".into()),
                "u.sql:10:11".into()
            ),
            (
                AnnotationKind::Backfill("lower(email)".into()),
                "app.users".into(),
                Some("email_lower".into()),
                "u.sql:15:3".into()
            ),
        ]
    );
}

#[test]
fn bad_annotations_are_errors() {
    let cases = [
        (
            "CREATE TABLE t (a int);\n-- zdm:renamed-from old_idx\nCREATE INDEX i ON t (a);\n",
            "x.sql:2:1: annotation is not attached to a column definition or a CREATE TABLE line",
        ),
        (
            "-- zdm:renamed-from old\n\nCREATE TABLE t (a int);\n",
            "x.sql:1:1: annotation is not attached to anything: a blank line separates it from what follows",
        ),
        (
            "CREATE TABLE t (\n  -- zdm:frobnicate x\n  a int\n);\n",
            "x.sql:2:10: unknown annotation `zdm:frobnicate`",
        ),
        (
            "CREATE TABLE t (\n  a int -- zdm:backfill\n);\n",
            "x.sql:2:16: `zdm:backfill` needs an expression",
        ),
        (
            "CREATE TABLE t (\n  a text, -- zdm:backfill 'é' || (b +\n  b text\n);\n",
            "x.sql:2:38: in `zdm:backfill` expression: syntax error at end of input",
        ),
        (
            "CREATE TABLE t (\n  a text, -- zdm:using a FROM t\n  b text\n);\n",
            "x.sql:2:24: in `zdm:using` expression: expected a single expression",
        ),
        (
            "-- zdm:backfill 1\nCREATE TABLE t (a int);\n",
            "x.sql:1:8: `zdm:backfill` applies to a column, not to a table",
        ),
        (
            "CREATE TABLE t (\n  a int,\n  PRIMARY KEY (a) -- zdm:using a\n);\n",
            "x.sql:3:19: annotation is on a table constraint, not on a column definition",
        ),
        (
            "CREATE TABLE t (\n  a int -- zdm:renamed-from s.b\n);\n",
            "x.sql:2:29: `zdm:renamed-from` expects one (optionally quoted) name, got `s.b`",
        ),
    ];
    for (text, expected) in cases {
        let (kind, msg) = one_error(&[("x.sql", text)]);
        assert_eq!(kind, ParseErrorKind::Annotation, "{text}");
        assert_eq!(msg, expected, "{text}");
    }
}
