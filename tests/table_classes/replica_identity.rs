//! `REPLICA IDENTITY` on tables and partitions.

use crate::{run, Case};

const CASES: &[Case] = &[
    Case {
        name: "full",
        old: "CREATE TABLE t (id int PRIMARY KEY, v text);",
        new: "CREATE TABLE t (id int PRIMARY KEY, v text); ALTER TABLE t REPLICA IDENTITY FULL;",
        hazards: &[],
    },
    Case {
        name: "nothing back to default",
        old: "CREATE TABLE t (id int PRIMARY KEY); ALTER TABLE t REPLICA IDENTITY NOTHING;",
        new: "CREATE TABLE t (id int PRIMARY KEY);",
        hazards: &[],
    },
    Case {
        name: "using an existing unique index",
        old: "CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL);
              CREATE UNIQUE INDEX t_code ON t (code);",
        new: "CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL);
              CREATE UNIQUE INDEX t_code ON t (code);
              ALTER TABLE t REPLICA IDENTITY USING INDEX t_code;",
        hazards: &[],
    },
    Case {
        name: "using an index built by the same plan",
        old: "CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL);",
        new: "CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL);
              CREATE UNIQUE INDEX t_code ON t (code);
              ALTER TABLE t REPLICA IDENTITY USING INDEX t_code;",
        hazards: &[],
    },
    Case {
        name: "using the primary key's index, on a new table",
        old: "CREATE TABLE other (id int);",
        new: "CREATE TABLE other (id int);
              CREATE TABLE t (id int PRIMARY KEY);
              ALTER TABLE t REPLICA IDENTITY USING INDEX t_pkey;",
        hazards: &[],
    },
    Case {
        name: "from an index to full",
        old: "CREATE TABLE t (id int NOT NULL, code text NOT NULL);
              CREATE UNIQUE INDEX t_code ON t (code);
              ALTER TABLE t REPLICA IDENTITY USING INDEX t_code;",
        new: "CREATE TABLE t (id int NOT NULL, code text NOT NULL);
              CREATE UNIQUE INDEX t_code ON t (code);
              ALTER TABLE t REPLICA IDENTITY FULL;",
        hazards: &[],
    },
    Case {
        name: "partitioned table and a partition",
        old: "CREATE TABLE p (id int, at date) PARTITION BY RANGE (at);
              CREATE TABLE p_2024 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        new: "CREATE TABLE p (id int, at date) PARTITION BY RANGE (at);
              CREATE TABLE p_2024 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
              ALTER TABLE p REPLICA IDENTITY FULL;
              ALTER TABLE p_2024 REPLICA IDENTITY NOTHING;",
        hazards: &[],
    },
];

#[tokio::test]
async fn replica_identity_converges() {
    run(CASES).await;
}
