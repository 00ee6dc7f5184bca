//! A type change combined with other changes to the same column (default dropped or
//! changed, NOT NULL dropped, a CHECK that reads the column dropped), on regular and
//! partitioned tables: each statement must be valid where it runs.

use crate::{run_keeping, Case, Kept};

const PARTITIONED_ROWS: &str =
    "INSERT INTO p SELECT i, date '2024-01-01' + i, i, i::text FROM generate_series(1, 40) i;";

const CASES: &[Kept] = &[
    Kept {
        case: Case {
            name: "type, default, NOT NULL and a CHECK at once, partitioned",
            old: "CREATE TABLE p (id int NOT NULL, at date NOT NULL,
                    n int NOT NULL DEFAULT 0 CONSTRAINT p_n_positive CHECK (n >= 0), s text)
                    PARTITION BY RANGE (at);
                  CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
            new: "CREATE TABLE p (id int NOT NULL, at date NOT NULL, n bigint, s text)
                    PARTITION BY RANGE (at);
                  CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
            hazards: &["table-rewrite"],
        },
        setup: PARTITIONED_ROWS,
        rows: "SELECT id, n::bigint AS n FROM p ORDER BY id",
    },
    Kept {
        case: Case {
            name: "a default that the new type cannot take, partitioned",
            old: "CREATE TABLE p (id int NOT NULL, at date NOT NULL, n int, s text DEFAULT 'none')
                    PARTITION BY RANGE (at);
                  CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
            new: "CREATE TABLE p (id int NOT NULL, at date NOT NULL, n int, s integer DEFAULT 7)
                    PARTITION BY RANGE (at);
                  CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
            hazards: &["table-rewrite"],
        },
        setup: PARTITIONED_ROWS,
        rows: "SELECT id, s::int AS s FROM p ORDER BY id",
    },
    Kept {
        case: Case {
            name: "a CHECK the new type would break is dropped first, regular table",
            old: "CREATE TABLE t (id int PRIMARY KEY, s text CONSTRAINT t_s_short CHECK (length(s) < 5));",
            new: "CREATE TABLE t (id int PRIMARY KEY, s integer NOT NULL DEFAULT 1);",
            hazards: &["table-rewrite", "may-fail"],
        },
        setup: "INSERT INTO t SELECT i, i::text FROM generate_series(1, 40) i;",
        rows: "SELECT id, s::int AS s FROM t ORDER BY id",
    },
];

#[tokio::test]
async fn type_changes_combined_with_other_column_changes_converge() {
    run_keeping(CASES).await;
}
