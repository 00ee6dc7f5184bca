//! Dropping a schema together with what it holds: the schema goes last.

use crate::{run, Case};

const CASES: &[Case] = &[
    Case {
        name: "schema with a table, a sequence and an enum",
        old: "CREATE TABLE keep (id int);
              CREATE SCHEMA gone;
              CREATE TYPE gone.mood AS ENUM ('ok');
              CREATE SEQUENCE gone.counter;
              CREATE TABLE gone.t (id int, m gone.mood);",
        new: "CREATE TABLE keep (id int);",
        hazards: &["data-loss"],
    },
    Case {
        name: "schema with a serial table and a standalone sequence",
        old: "CREATE TABLE keep (id int);
              CREATE SCHEMA gone;
              CREATE SEQUENCE gone.free;
              CREATE TABLE gone.t (id serial PRIMARY KEY);",
        new: "CREATE TABLE keep (id int);",
        hazards: &["data-loss"],
    },
    Case {
        name: "schema holding an extension's objects",
        old: "CREATE TABLE keep (id int);
              CREATE SCHEMA ext;
              CREATE EXTENSION citext SCHEMA ext;",
        new: "CREATE TABLE keep (id int);",
        hazards: &["data-loss"],
    },
    Case {
        name: "schema with a partitioned table, its partitions and an owned sequence",
        old: "CREATE TABLE keep (id int);
              CREATE SCHEMA gone;
              CREATE TABLE gone.p (id serial, at date NOT NULL, PRIMARY KEY (id, at))
                PARTITION BY RANGE (at);
              CREATE TABLE gone.p_1 PARTITION OF gone.p
                FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
              CREATE TABLE gone.c (id int PRIMARY KEY, p_id int, p_at date,
                FOREIGN KEY (p_id, p_at) REFERENCES gone.p);",
        new: "CREATE TABLE keep (id int);",
        hazards: &["data-loss"],
    },
];

#[tokio::test]
async fn dropping_a_schema_with_its_objects_converges() {
    run(CASES).await;
}
