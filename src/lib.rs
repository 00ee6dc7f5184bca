//! zdm: declarative zero-downtime schema migrations for PostgreSQL.
//!
//! Data flows one way: `source` + `parse` read the desired files, `load` puts them into a
//! shadow database (`shadow`), `catalog` reads any database into a `model`, `diff` compares two
//! models, `plan` orders the changes into phased steps, `apply` executes them. Only `cli` prints.

pub mod apply;
pub mod cache;
pub mod catalog;
pub mod cli;
pub mod connect;
pub mod data;
pub mod diff;
pub mod dump;
pub mod ledger;
pub mod lint;
pub mod load;
pub mod model;
pub mod parse;
pub mod plan;
pub mod rehearse;
pub mod scope;
pub mod shadow;
pub mod source;
pub mod sql;
pub mod workspace;
