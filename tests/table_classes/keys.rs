//! Keys that move: a primary key or unique constraint that other tables' foreign keys
//! reference changes its columns; the keys keep their names, actions and deferrability.
//! Also the other key changes of class 4: tables that reference one another dropped
//! together, a primary key under a name of its own, a foreign key that changes owner between
//! tables of the same name in two schemas, and a partitioned table's key (moved, or dropped
//! with the NOT NULL it gave its columns).

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
    Kept {
        case: Case {
            name: "tables that reference one another dropped together",
            old: "CREATE TABLE keep (id int PRIMARY KEY);
                  CREATE TABLE a (id int PRIMARY KEY, b_id int, keep_id int REFERENCES keep);
                  CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);
                  ALTER TABLE a ADD CONSTRAINT a_b FOREIGN KEY (b_id) REFERENCES b
                    DEFERRABLE INITIALLY DEFERRED;
                  CREATE TABLE c (id int PRIMARY KEY, c_id int REFERENCES c, a_id int REFERENCES a);",
            new: "CREATE TABLE keep (id int PRIMARY KEY);",
            hazards: &["data-loss"],
        },
        setup: "INSERT INTO keep SELECT generate_series(1, 5);
                BEGIN;
                INSERT INTO a SELECT i, i, 1 FROM generate_series(1, 5) i;
                INSERT INTO b SELECT i, i FROM generate_series(1, 5) i;
                COMMIT;
                INSERT INTO c VALUES (1, NULL, 1), (2, 1, 2);",
        rows: "SELECT id FROM keep ORDER BY id",
    },
    Kept {
        case: Case {
            name: "a primary key under a name of its own moves to other columns",
            old: "CREATE TABLE t (id int NOT NULL, code text NOT NULL,
                    CONSTRAINT t_identity PRIMARY KEY (id));",
            new: "CREATE TABLE t (id int NOT NULL, code text NOT NULL,
                    CONSTRAINT t_identity PRIMARY KEY (code));",
            hazards: &["may-fail"],
        },
        setup: "INSERT INTO t SELECT i, 'c' || i FROM generate_series(1, 30) i;",
        rows: "SELECT id, code FROM t ORDER BY id",
    },
    Kept {
        case: Case {
            name: "a primary key renamed and moved, referenced by a foreign key",
            old: "CREATE TABLE t (id int NOT NULL, code text NOT NULL,
                    CONSTRAINT t_old_key PRIMARY KEY (id));
                  CREATE TABLE c (id int PRIMARY KEY, t_id int
                    CONSTRAINT c_t REFERENCES t ON DELETE CASCADE, t_code text);",
            new: "CREATE TABLE t (id int NOT NULL, code text NOT NULL,
                    CONSTRAINT t_new_key PRIMARY KEY (code));
                  CREATE TABLE c (id int PRIMARY KEY, t_id int, t_code text
                    CONSTRAINT c_t REFERENCES t ON DELETE CASCADE);",
            hazards: &["may-fail"],
        },
        setup: "INSERT INTO t SELECT i, 'c' || i FROM generate_series(1, 30) i;
                INSERT INTO c SELECT i, i, 'c' || i FROM generate_series(1, 30) i;",
        rows: "SELECT c.id, t.code FROM c JOIN t ON t.id = c.t_id ORDER BY c.id",
    },
    Kept {
        case: Case {
            name: "the foreign key moves between tables of the same name in two schemas",
            old: "CREATE TABLE parent (id int PRIMARY KEY);
                  CREATE SCHEMA one; CREATE SCHEMA two;
                  CREATE TABLE one.child (id int PRIMARY KEY,
                    parent_id int CONSTRAINT child_parent REFERENCES parent);
                  CREATE TABLE two.child (id int PRIMARY KEY, parent_id int);",
            new: "CREATE TABLE parent (id int PRIMARY KEY);
                  CREATE SCHEMA one; CREATE SCHEMA two;
                  CREATE TABLE one.child (id int PRIMARY KEY, parent_id int);
                  CREATE TABLE two.child (id int PRIMARY KEY,
                    parent_id int CONSTRAINT child_parent REFERENCES parent);",
            hazards: &["may-fail"],
        },
        setup: "INSERT INTO parent SELECT generate_series(1, 10);
                INSERT INTO one.child SELECT i, i FROM generate_series(1, 10) i;
                INSERT INTO two.child SELECT i, i FROM generate_series(1, 10) i;",
        rows: "SELECT 'one' AS s, id, parent_id FROM one.child
               UNION ALL SELECT 'two', id, parent_id FROM two.child ORDER BY 1, 2",
    },
    Kept {
        case: Case {
            name: "a partitioned table's primary key dropped with the NOT NULL it gave",
            old: "CREATE TABLE p (id int, at date, v text, PRIMARY KEY (id, at))
                    PARTITION BY RANGE (at);
                  CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
                  CREATE TABLE p_2 PARTITION OF p FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
            new: "CREATE TABLE p (id int, at date NOT NULL, v text) PARTITION BY RANGE (at);
                  CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
                  CREATE TABLE p_2 PARTITION OF p FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
            hazards: &[],
        },
        setup: "INSERT INTO p SELECT i, date '2024-01-01' + i * 5, 'v' || i
                  FROM generate_series(1, 100) i;",
        rows: "SELECT id, at, v FROM p ORDER BY id",
    },
    Kept {
        case: Case {
            name: "a partitioned table's primary key moves, a foreign key references it",
            old: "CREATE TABLE p (tenant int NOT NULL, id int NOT NULL, at date NOT NULL,
                    CONSTRAINT p_key PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
                  CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
                  CREATE TABLE c (id int PRIMARY KEY, tenant int, p_id int, p_at date,
                    CONSTRAINT c_p FOREIGN KEY (p_id, p_at) REFERENCES p (id, at)
                      ON DELETE CASCADE);",
            new: "CREATE TABLE p (tenant int NOT NULL, id int NOT NULL, at date NOT NULL,
                    CONSTRAINT p_key PRIMARY KEY (tenant, id, at)) PARTITION BY RANGE (at);
                  CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
                  CREATE TABLE c (id int PRIMARY KEY, tenant int, p_id int, p_at date,
                    CONSTRAINT c_p FOREIGN KEY (tenant, p_id, p_at) REFERENCES p (tenant, id, at)
                      ON DELETE CASCADE);",
            hazards: &["may-fail"],
        },
        setup: "INSERT INTO p SELECT i % 3, i, date '2024-01-01' + i FROM generate_series(1, 30) i;
                INSERT INTO c SELECT i, i % 3, i, date '2024-01-01' + i FROM generate_series(1, 30) i;",
        rows: "SELECT c.id, p.tenant FROM c JOIN p ON p.id = c.p_id AND p.at = c.p_at ORDER BY c.id",
    },
    Kept {
        case: Case {
            name: "a partitioned table's unique key changes its columns, nothing references it",
            old: "CREATE TABLE p (id int NOT NULL, at date NOT NULL, code text NOT NULL,
                    CONSTRAINT p_code UNIQUE (code, at)) PARTITION BY RANGE (at);
                  CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
            new: "CREATE TABLE p (id int NOT NULL, at date NOT NULL, code text NOT NULL,
                    CONSTRAINT p_code UNIQUE (code, id, at)) PARTITION BY RANGE (at);
                  CREATE TABLE p_1 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
            hazards: &["may-fail"],
        },
        setup: "INSERT INTO p SELECT i, date '2024-01-01' + i, 'c' || i FROM generate_series(1, 30) i;",
        rows: "SELECT id, at, code FROM p ORDER BY id",
    },
];

#[tokio::test]
async fn moved_keys_converge_with_their_foreign_keys() {
    run_keeping(CASES).await;
}
