//! Keys that move: a primary key or unique constraint that other tables' foreign keys
//! reference changes its columns; the keys keep their names, actions and deferrability.

use crate::{run_keeping, Case, Kept};

const CASES: &[Kept] = &[
    Kept {
        case: Case {
            name: "a referenced primary key gains a column, the foreign key follows",
            old: "CREATE TABLE p (id int NOT NULL, tenant int NOT NULL, CONSTRAINT p_key PRIMARY KEY (id));
                  CREATE TABLE c (id int PRIMARY KEY, p_id int, tenant int,
                    CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id)
                      ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED);",
            new: "CREATE TABLE p (id int NOT NULL, tenant int NOT NULL,
                    CONSTRAINT p_key PRIMARY KEY (tenant, id));
                  CREATE TABLE c (id int PRIMARY KEY, p_id int, tenant int,
                    CONSTRAINT c_p FOREIGN KEY (tenant, p_id) REFERENCES p (tenant, id)
                      ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED);",
            hazards: &["may-fail"],
        },
        setup: "INSERT INTO p SELECT i, i % 3 FROM generate_series(1, 30) i;
                INSERT INTO c SELECT i, i, i % 3 FROM generate_series(1, 30) i;",
        rows: "SELECT c.id, p.tenant FROM c JOIN p ON p.id = c.p_id ORDER BY c.id",
    },
    Kept {
        case: Case {
            name: "a referenced unique constraint changes its columns",
            old: "CREATE TABLE p (id int PRIMARY KEY, code text NOT NULL, region text NOT NULL,
                    CONSTRAINT p_code UNIQUE (code));
                  CREATE TABLE c (id int PRIMARY KEY, code text, region text,
                    CONSTRAINT c_code FOREIGN KEY (code) REFERENCES p (code) ON DELETE RESTRICT);",
            new: "CREATE TABLE p (id int PRIMARY KEY, code text NOT NULL, region text NOT NULL,
                    CONSTRAINT p_code UNIQUE (code, region));
                  CREATE TABLE c (id int PRIMARY KEY, code text, region text,
                    CONSTRAINT c_code FOREIGN KEY (code, region) REFERENCES p (code, region)
                      ON DELETE RESTRICT);",
            hazards: &["may-fail"],
        },
        setup: "INSERT INTO p SELECT i, 'c' || i, 'r' FROM generate_series(1, 30) i;
                INSERT INTO c SELECT i, 'c' || i, 'r' FROM generate_series(1, 30) i;",
        rows: "SELECT c.id, p.id FROM c JOIN p USING (code) ORDER BY c.id",
    },
];

#[tokio::test]
async fn moved_keys_converge_with_their_foreign_keys() {
    run_keeping(CASES).await;
}
