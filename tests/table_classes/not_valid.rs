//! NOT VALID in the files: a validated live constraint satisfies it (README, "NOT VALID").

use crate::cli_support::{schema_dir, zdm_on};
use crate::{common, run, Case};

const CASES: &[Case] = &[
    Case {
        name: "NOT VALID live, validated desired",
        old: "CREATE TABLE t (n int);
              ALTER TABLE t ADD CONSTRAINT n_positive CHECK (n > 0) NOT VALID;",
        new: "CREATE TABLE t (n int, CONSTRAINT n_positive CHECK (n > 0));",
        hazards: &[],
    },
    Case {
        name: "a new NOT VALID foreign key",
        old: "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (a_id int);",
        new: "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (a_id int);
              ALTER TABLE b ADD CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a NOT VALID;",
        hazards: &[],
    },
    Case {
        name: "NOT VALID live, validated desired, partitioned",
        old: "CREATE TABLE p (n int, at date NOT NULL) PARTITION BY RANGE (at);
              CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
              ALTER TABLE p ADD CONSTRAINT n_positive CHECK (n > 0) NOT VALID;",
        new: "CREATE TABLE p (n int, at date NOT NULL, CONSTRAINT n_positive CHECK (n > 0))
                PARTITION BY RANGE (at);
              CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
        hazards: &[],
    },
];

#[tokio::test]
async fn validation_state_converges() {
    run(CASES).await;
}

/// Validated live, NOT VALID in the files: no difference, and nothing is weakened.
#[tokio::test]
async fn a_validated_constraint_satisfies_not_valid() {
    let db = common::test_db().await;
    db.exec(
        "CREATE TABLE a (id int PRIMARY KEY);
         CREATE TABLE b (n int, a_id int REFERENCES a, CONSTRAINT n_positive CHECK (n > 0));",
    )
    .await;
    let desired = schema_dir(
        "CREATE TABLE a (id int PRIMARY KEY);
         CREATE TABLE b (n int, a_id int);
         ALTER TABLE b ADD CONSTRAINT n_positive CHECK (n > 0) NOT VALID;
         ALTER TABLE b ADD CONSTRAINT b_a_id_fkey FOREIGN KEY (a_id) REFERENCES a NOT VALID;",
    );
    for verb in ["diff", "plan"] {
        let run = zdm_on(&[verb], &db.conninfo, desired.path(), &[]).await;
        assert_eq!(run.code, 0, "{verb}: {}", run.text());
    }
    let validated: i64 = db
        .client
        .query_one(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'b'::regclass AND convalidated",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(validated, 2, "both constraints stay validated");
}
