//! Re-creating a table: partitioning changed (regular <-> partitioned, another key, another
//! parent or bound), with its partitions and with what depends on it (foreign keys from other
//! tables, sequences it owns, views, triggers, policies, grants, comments). The rows are
//! copied into the new shape inside the re-creating transaction.

use crate::{run_keeping, Case, Kept};

const PLAIN: &str = "CREATE TABLE t (id int NOT NULL, at date NOT NULL, v text);";
const BY_RANGE: &str = "CREATE TABLE t (id int NOT NULL, at date NOT NULL, v text)
        PARTITION BY RANGE (at);
    CREATE TABLE t_2024 PARTITION OF t FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE t_rest PARTITION OF t DEFAULT;";
const ROWS: &str = "INSERT INTO t SELECT i, date '2024-01-01' + i * 3, 'v' || i
    FROM generate_series(1, 200) i;";
const ALL_ROWS: &str = "SELECT id, at, v FROM t ORDER BY id";

const CASES: &[Kept] = &[
    Kept {
        case: Case {
            name: "regular to partitioned, empty",
            old: PLAIN,
            new: BY_RANGE,
            hazards: &[],
        },
        setup: "",
        rows: "",
    },
    Kept {
        case: Case {
            name: "partitioned to regular, empty",
            old: BY_RANGE,
            new: PLAIN,
            hazards: &[],
        },
        setup: "",
        rows: "",
    },
    Kept {
        case: Case {
            name: "regular to partitioned, with rows",
            old: PLAIN,
            new: BY_RANGE,
            hazards: &["long-lock", "may-fail"],
        },
        setup: ROWS,
        rows: ALL_ROWS,
    },
    Kept {
        case: Case {
            name: "partitioned to regular, with rows",
            old: BY_RANGE,
            new: PLAIN,
            hazards: &["long-lock"],
        },
        setup: ROWS,
        rows: ALL_ROWS,
    },
    Kept {
        case: Case {
            name: "another partition key, partitions re-created with it",
            old: BY_RANGE,
            new: "CREATE TABLE t (id int NOT NULL, at date NOT NULL, v text)
                    PARTITION BY HASH (id);
                  CREATE TABLE t_0 PARTITION OF t FOR VALUES WITH (MODULUS 2, REMAINDER 0);
                  CREATE TABLE t_1 PARTITION OF t FOR VALUES WITH (MODULUS 2, REMAINDER 1);",
            hazards: &["long-lock", "may-fail"],
        },
        setup: ROWS,
        rows: ALL_ROWS,
    },
    Kept {
        case: Case {
            name: "same key, a partition kept under the re-created parent",
            old: "CREATE TABLE t (id int NOT NULL, at date NOT NULL, v text)
                    PARTITION BY RANGE (at);
                  CREATE TABLE t_2024 PARTITION OF t
                    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
                  CREATE TABLE t_rest PARTITION OF t DEFAULT;
                  CREATE INDEX t_2024_v ON t_2024 (v);
                  COMMENT ON TABLE t_2024 IS 'this year';",
            new: "CREATE TABLE t (id int NOT NULL, at date NOT NULL, v text)
                    PARTITION BY LIST (at);
                  CREATE TABLE t_2024 PARTITION OF t DEFAULT;
                  CREATE INDEX t_2024_v ON t_2024 (v);
                  COMMENT ON TABLE t_2024 IS 'this year';",
            hazards: &["long-lock", "may-fail"],
        },
        setup: ROWS,
        rows: ALL_ROWS,
    },
    Kept {
        case: Case {
            name: "a partition moves to another bound",
            old: BY_RANGE,
            new: "CREATE TABLE t (id int NOT NULL, at date NOT NULL, v text)
                    PARTITION BY RANGE (at);
                  CREATE TABLE t_2024 PARTITION OF t
                    FOR VALUES FROM ('2023-01-01') TO ('2025-01-01');
                  CREATE TABLE t_rest PARTITION OF t DEFAULT;",
            hazards: &["long-lock", "may-fail"],
        },
        setup: ROWS,
        rows: ALL_ROWS,
    },
    Kept {
        case: Case {
            name: "dependents: foreign keys in, owned sequence, view, trigger, policy, grant, comments",
            old: "CREATE ROLE zdm_reader;
                  CREATE TABLE t (id serial PRIMARY KEY, at date NOT NULL, v text);
                  COMMENT ON TABLE t IS 'the table';
                  COMMENT ON COLUMN t.v IS 'a value';
                  CREATE INDEX t_v ON t (v);
                  CREATE TABLE c (id int PRIMARY KEY,
                    t_id int REFERENCES t ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED);
                  CREATE VIEW tv AS SELECT id, v FROM t;
                  CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql
                    AS $$BEGIN NEW.v := coalesce(NEW.v, 'x'); RETURN NEW; END$$;
                  CREATE TRIGGER t_touch BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch();
                  ALTER TABLE t ENABLE ROW LEVEL SECURITY;
                  CREATE POLICY t_read ON t FOR SELECT USING (v IS NOT NULL);
                  GRANT SELECT ON t TO zdm_reader;",
            new: "CREATE TABLE t (id serial, at date NOT NULL, v text, PRIMARY KEY (id, at))
                    PARTITION BY RANGE (at);
                  CREATE TABLE t_2024 PARTITION OF t
                    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
                  CREATE TABLE t_rest PARTITION OF t DEFAULT;
                  COMMENT ON TABLE t IS 'the table';
                  COMMENT ON COLUMN t.v IS 'a value';
                  CREATE INDEX t_v ON t (v);
                  CREATE TABLE c (id int PRIMARY KEY, t_id int, t_at date,
                    FOREIGN KEY (t_id, t_at) REFERENCES t ON DELETE CASCADE
                      DEFERRABLE INITIALLY DEFERRED);
                  CREATE VIEW tv AS SELECT id, v FROM t;
                  CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql
                    AS $$BEGIN NEW.v := coalesce(NEW.v, 'x'); RETURN NEW; END$$;
                  CREATE TRIGGER t_touch BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch();
                  ALTER TABLE t ENABLE ROW LEVEL SECURITY;
                  CREATE POLICY t_read ON t FOR SELECT USING (v IS NOT NULL);
                  GRANT SELECT ON t TO zdm_reader;",
            hazards: &["long-lock", "may-fail"],
        },
        setup: "INSERT INTO t (at, v) SELECT date '2024-01-01' + i, 'v' || i
                  FROM generate_series(1, 50) i;",
        rows: "SELECT id, at, v, (SELECT last_value FROM t_id_seq) AS seq FROM t ORDER BY id",
    },
    Kept {
        case: Case {
            name: "a referenced table re-created keeps its referencing keys",
            old: "CREATE TABLE t (id int PRIMARY KEY, v text);
                  CREATE TABLE c (id int PRIMARY KEY, t_id int REFERENCES t ON UPDATE CASCADE);",
            new: "CREATE TABLE t (id int PRIMARY KEY, v text) PARTITION BY HASH (id);
                  CREATE TABLE t_0 PARTITION OF t FOR VALUES WITH (MODULUS 1, REMAINDER 0);
                  CREATE TABLE c (id int PRIMARY KEY, t_id int REFERENCES t ON UPDATE CASCADE);",
            hazards: &["long-lock", "may-fail"],
        },
        setup: "INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 30) i;
                INSERT INTO c SELECT i, i FROM generate_series(1, 30) i;",
        rows: "SELECT c.id, t.v FROM c JOIN t ON t.id = c.t_id ORDER BY c.id",
    },
    Kept {
        case: Case {
            name: "identity column keeps counting after the copy",
            old: "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);",
            new: "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)
                    PARTITION BY HASH (id);
                  CREATE TABLE t_0 PARTITION OF t FOR VALUES WITH (MODULUS 1, REMAINDER 0);",
            hazards: &["long-lock", "may-fail"],
        },
        setup: "INSERT INTO t (v) SELECT 'v' || i FROM generate_series(1, 20) i;",
        rows: "SELECT id, v FROM t ORDER BY id",
    },
    // Found by the third convergence property: the new tree's partition existed as a table of
    // its own, which the re-creation did not drop ("already exists").
    Kept {
        case: Case {
            name: "re-keyed, a table of its own taken in as a partition with its rows",
            old: "CREATE TABLE \"p Ü\" (id bigint NOT NULL, at date NOT NULL, v text)
                    PARTITION BY HASH (id);
                  CREATE TABLE \"p Ü 0\" PARTITION OF \"p Ü\"
                    FOR VALUES WITH (MODULUS 1, REMAINDER 0);
                  CREATE TABLE \"p Ü part2\" (id bigint NOT NULL, at date NOT NULL, v text);",
            new: "CREATE TABLE \"p Ü\" (id bigint NOT NULL, at date NOT NULL, v text)
                    PARTITION BY RANGE (at);
                  CREATE TABLE \"p Ü part2\" PARTITION OF \"p Ü\" DEFAULT;",
            hazards: &["long-lock", "may-fail"],
        },
        setup: "INSERT INTO \"p Ü\" SELECT i, date '2024-01-01' + i, 'p' || i
                  FROM generate_series(1, 20) i;
                INSERT INTO \"p Ü part2\" SELECT i, date '2025-01-01' + i, 's' || i
                  FROM generate_series(21, 30) i;",
        rows: "SELECT id, at, v FROM (SELECT * FROM \"p Ü\" UNION SELECT * FROM \"p Ü part2\") r
               ORDER BY id, v",
    },
    // Found by the third convergence property: the partition went with its old parent, rows
    // and all, and was never created again.
    Kept {
        case: Case {
            name: "re-keyed, a partition kept as a table of its own with its rows",
            old: "CREATE TABLE \"p Ü\" (id bigint NOT NULL, at date NOT NULL, v text)
                    PARTITION BY HASH (id);
                  CREATE TABLE \"p Ü part1\" PARTITION OF \"p Ü\"
                    FOR VALUES WITH (MODULUS 1, REMAINDER 0);",
            new: "CREATE TABLE \"p Ü\" (id bigint NOT NULL, at date NOT NULL, v text)
                    PARTITION BY RANGE (at);
                  CREATE TABLE \"p Ü part1\" (id bigint NOT NULL, at date NOT NULL, v text);",
            hazards: &["long-lock", "may-fail"],
        },
        setup: "INSERT INTO \"p Ü\" SELECT i, date '2024-01-01' + i, 'p' || i
                  FROM generate_series(1, 20) i;",
        rows: "SELECT id, at, v FROM \"p Ü part1\" ORDER BY id",
    },
];

#[tokio::test]
async fn recreated_tables_converge_and_keep_their_rows() {
    run_keeping(CASES).await;
}
