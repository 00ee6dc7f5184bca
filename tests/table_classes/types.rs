//! Type changes PostgreSQL has no cast for: an error at plan time, at the column. Enums
//! rebuilt because values went or moved, with every column that stores them.

use crate::cli_support::{schema_dir, zdm_on};
use crate::{common, run, run_keeping, Case, Kept};

#[tokio::test]
async fn a_type_change_without_a_cast_is_an_error_at_the_column() {
    let db = common::test_db().await;
    db.exec("CREATE TABLE t (id int, n bigint);").await;
    let desired = schema_dir("CREATE TABLE t (\n    id int,\n    n timestamp\n);\n");
    let run = zdm_on(&["plan"], &db.conninfo, desired.path(), &[]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("schema.sql:3:5"),
        "points at the column: {}",
        run.text()
    );
    assert!(run.stderr.contains("zdm:using"), "{}", run.text());
    assert!(
        run.stderr
            .contains("cannot change from bigint to timestamp"),
        "{}",
        run.text()
    );
}

const CASES: &[Case] = &[
    Case {
        name: "bigint to timestamp with a using annotation",
        old: "CREATE TABLE t (id int PRIMARY KEY, n bigint);",
        new: "CREATE TABLE t (
                id int PRIMARY KEY,
                -- zdm:using to_timestamp(n)
                n timestamp with time zone
              );",
        // An empty table converts in place, under a lock held for no time.
        hazards: &[],
    },
    Case {
        name: "text to integer (an explicit cast exists)",
        old: "CREATE TABLE t (id int PRIMARY KEY, n text);",
        new: "CREATE TABLE t (id int PRIMARY KEY, n integer);",
        hazards: &[],
    },
    Case {
        name: "bigint to timestamp with a using annotation, partitioned",
        old: "CREATE TABLE p (id int NOT NULL, at date NOT NULL, n bigint) PARTITION BY RANGE (at);
              CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        new: "CREATE TABLE p (
                id int NOT NULL,
                at date NOT NULL,
                -- zdm:using to_timestamp(n)
                n timestamp with time zone
              ) PARTITION BY RANGE (at);
              CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        hazards: &[],
    },
];

#[tokio::test]
async fn type_changes_with_a_conversion_converge() {
    run(CASES).await;
}

/// Found by the third convergence property: the rebuild converted only the columns the files
/// keep, so a column the files drop (it goes in contract, after the rebuild) still held the
/// old type and `DROP TYPE` failed.
const ENUMS: &[Kept] = &[
    Kept {
        case: Case {
            name: "values removed while the column storing them is dropped",
            old: "CREATE TYPE \"mood ü\" AS ENUM ('sad', 'ok', 'happy');
                  CREATE TABLE \"s t\" (id bigint PRIMARY KEY, mood \"mood ü\" DEFAULT 'ok');",
            new: "CREATE TYPE \"mood ü\" AS ENUM ('sad', 'ok');
                  CREATE TABLE \"s t\" (id bigint PRIMARY KEY);",
            // The rebuild converts no column (the only one is dropped): only the drop's loss.
            hazards: &["data-loss"],
        },
        setup: "INSERT INTO \"s t\" VALUES (1, 'sad'), (2, 'ok'), (3, DEFAULT);",
        rows: "SELECT id FROM \"s t\" ORDER BY id",
    },
    Kept {
        case: Case {
            name: "values reordered under a kept column and a new one",
            old: "CREATE TYPE mood AS ENUM ('sad', 'ok');
                  CREATE TABLE t (id bigint PRIMARY KEY, mood mood DEFAULT 'ok');",
            new: "CREATE TYPE mood AS ENUM ('ok', 'sad');
                  CREATE TABLE t (id bigint PRIMARY KEY, mood mood DEFAULT 'sad', other mood);",
            // Staged online: a new type, the column converted by the online retype.
            hazards: &[],
        },
        setup: "INSERT INTO t VALUES (1, 'sad'), (2, 'ok');",
        rows: "SELECT id, mood::text FROM t ORDER BY id",
    },
];

#[tokio::test]
async fn enum_rebuilds_converge() {
    run_keeping(ENUMS).await;
}
