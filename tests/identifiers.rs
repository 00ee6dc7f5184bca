//! Identifier torture: schemas, tables, columns, constraints, indexes and types named with
//! quotes, spaces, upper case, unicode and reserved words are planned, applied and converge.

mod cli_support;
mod common;

use cli_support::{apply_all, filters, schema_dir, zdm_on};

const LIVE: &str = r#"
CREATE SCHEMA "Weird ""Sch"" ü";
CREATE TABLE "Weird ""Sch"" ü"."a""b" (
    id bigint PRIMARY KEY,
    "select" text,
    "User Name" text,
    "größe" integer,
    "名前" text,
    "order" integer
);
CREATE TABLE "Weird ""Sch"" ü"."user" (
    "ID" bigint PRIMARY KEY,
    "Order Ref" bigint
);
CREATE TABLE "Weird ""Sch"" ü"."drop me" ("x y" int);
CREATE INDEX "idx ""old"" größe" ON "Weird ""Sch"" ü"."a""b" ("größe");
CREATE INDEX "Gone Idx" ON "Weird ""Sch"" ü"."a""b" ("User Name");
INSERT INTO "Weird ""Sch"" ü"."a""b"
     SELECT i, 's' || i, 'U ' || i, i, '名' || i, i FROM generate_series(1, 2000) i;
INSERT INTO "Weird ""Sch"" ü"."user" SELECT i, i FROM generate_series(1, 2000) i;
"#;

const DESIRED: &str = r#"
CREATE SCHEMA "Weird ""Sch"" ü";
CREATE TYPE "Weird ""Sch"" ü"."Mood ""x""" AS ENUM ('a', 'b''c', 'größe');
CREATE TABLE "Weird ""Sch"" ü"."a""b" (
    id bigint PRIMARY KEY,
    "select" text NOT NULL,
    "User Name" text,
    "größe" integer CONSTRAINT "größe > 0" CHECK ("größe" > 0),
    "名前" text CONSTRAINT "名前 unique" UNIQUE,
    "from" text NOT NULL DEFAULT 'x',
    "Mood" "Weird ""Sch"" ü"."Mood ""x"""
);
CREATE TABLE "Weird ""Sch"" ü"."user" (
    "ID" bigint PRIMARY KEY,
    "Order Ref" bigint CONSTRAINT "user ""fk""" REFERENCES "Weird ""Sch"" ü"."a""b" (id)
);
CREATE TABLE "Weird ""Sch"" ü"."New Table" (
    "Col ""Q""" text CONSTRAINT "New PK" PRIMARY KEY,
    "table" "Weird ""Sch"" ü"."Mood ""x"""
);
CREATE INDEX "idx ""old"" größe" ON "Weird ""Sch"" ü"."a""b" ("größe", "名前");
CREATE INDEX "Idx New" ON "Weird ""Sch"" ü"."user" ("Order Ref") WHERE "Order Ref" > 0;
CREATE INDEX "select" ON "Weird ""Sch"" ü"."a""b" (lower("select"));
"#;

#[tokio::test]
async fn torture_names_converge() {
    let db = common::test_db().await;
    db.exec(LIVE).await;
    let schema = schema_dir(DESIRED);

    let diff = zdm_on(&["diff"], &db.conninfo, schema.path(), &[]).await;
    assert_eq!(diff.code, 1, "{}", diff.text());
    let plan = zdm_on(&["plan"], &db.conninfo, schema.path(), &["--format", "sql"]).await;
    assert_eq!(plan.code, 1, "{}", plan.text());
    // 18 sets "select" NOT NULL by its own NOT VALID constraint (no helper check).
    insta::with_settings!({ filters => filters(), snapshot_suffix => common::suffix_of_18() }, {
        insta::assert_snapshot!("identifiers_plan", plan.stdout);
    });

    let apply = apply_all(&db.conninfo, schema.path()).await;
    assert_eq!(apply.code, 0, "{}", apply.text());

    let diff = zdm_on(&["diff"], &db.conninfo, schema.path(), &[]).await;
    assert_eq!(diff.code, 0, "not converged:\n{}", diff.text());
    let again = zdm_on(&["plan"], &db.conninfo, schema.path(), &[]).await;
    assert_eq!(again.code, 0, "second plan not empty:\n{}", again.text());
    assert_eq!(
        again.stdout,
        "nothing to do: the database matches the desired schema\n"
    );

    // the data survived under its odd names
    let n: i64 = db
        .client
        .query_one(
            r#"SELECT count(*) FROM "Weird ""Sch"" ü"."a""b" WHERE "from" = 'x' AND "名前" LIKE '名%'"#,
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2000);
    let names: i64 = db
        .client
        .query_one(
            r#"SELECT count(*) FROM pg_constraint
                WHERE conname IN ('größe > 0', '名前 unique', 'user "fk"', 'New PK') AND convalidated"#,
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(names, 4);
}
