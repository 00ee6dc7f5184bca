//! Domains (`pg_type.typtype = 'd'`) and their CHECK constraints (`pg_constraint.contypid`).
//! A domain's NOT NULL is `typnotnull` (PG17 also records it as a `contype 'n'` constraint,
//! which is not read as a check).

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{named, CatalogError};
use crate::model::{Domain, DomainCheck, QualifiedName};

pub(crate) async fn domains(
    client: &Reader<'_>,
) -> Result<BTreeMap<QualifiedName, Domain>, CatalogError> {
    const WHAT: &str = "domains";
    // Collation only when it differs from the base type's, qualified like a column's.
    let sql = format!(
        "SELECT n.nspname::text AS schema, t.typname::text AS name,
                pg_catalog.format_type(t.typbasetype, t.typtypmod) AS base_type,
                pg_catalog.pg_get_expr(t.typdefaultbin, 0) AS default_expr,
                t.typnotnull AS not_null,
                CASE WHEN t.typcollation <> b.typcollation AND co.oid IS NOT NULL
                     THEN NULLIF(con.nspname::text, 'pg_catalog') END AS collation_schema,
                CASE WHEN t.typcollation <> b.typcollation THEN co.collname::text END
                    AS collation_name,
                pg_catalog.obj_description(t.oid, 'pg_type') AS comment
         FROM pg_catalog.pg_type t
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         JOIN pg_catalog.pg_type b ON b.oid = t.typbasetype
         LEFT JOIN pg_catalog.pg_collation co ON co.oid = t.typcollation
         LEFT JOIN pg_catalog.pg_namespace con ON con.oid = co.collnamespace
         WHERE t.typtype = 'd' AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_type", "t.oid")
    );
    let mut domains = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let name = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "name", WHAT)?,
        );
        let collation_schema: Option<String> = named(&row, "collation_schema", WHAT)?;
        let collation =
            named::<Option<String>>(&row, "collation_name", WHAT)?.map(
                |c| match collation_schema {
                    Some(schema) => QualifiedName::new(schema, c).to_string(),
                    None => crate::sql::quote_ident(&c),
                },
            );
        domains.insert(
            name.clone(),
            Domain {
                name,
                base_type: named(&row, "base_type", WHAT)?,
                default: named(&row, "default_expr", WHAT)?,
                not_null: named(&row, "not_null", WHAT)?,
                collation,
                checks: BTreeMap::new(),
                comment: named(&row, "comment", WHAT)?,
            },
        );
    }
    checks(client, &mut domains).await?;
    Ok(domains)
}

async fn checks(
    client: &Reader<'_>,
    domains: &mut BTreeMap<QualifiedName, Domain>,
) -> Result<(), CatalogError> {
    const WHAT: &str = "domain constraints";
    let sql = format!(
        "SELECT n.nspname::text AS schema, t.typname::text AS domain, c.conname::text AS name,
                pg_catalog.pg_get_constraintdef(c.oid) AS definition,
                c.convalidated AS validated,
                pg_catalog.obj_description(c.oid, 'pg_constraint') AS comment
         FROM pg_catalog.pg_constraint c
         JOIN pg_catalog.pg_type t ON t.oid = c.contypid
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         WHERE c.contype = 'c' AND t.typtype = 'd' AND {USER_SCHEMA}"
    );
    for row in client.query(WHAT, &sql).await? {
        let domain = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "domain", WHAT)?,
        );
        let Some(domain) = domains.get_mut(&domain) else {
            continue;
        };
        let name: String = named(&row, "name", WHAT)?;
        let definition: String = named(&row, "definition", WHAT)?;
        domain.checks.insert(
            name.clone(),
            DomainCheck {
                name,
                definition: definition
                    .strip_suffix(" NOT VALID")
                    .unwrap_or(&definition)
                    .to_string(),
                validated: named(&row, "validated", WHAT)?,
                comment: named(&row, "comment", WHAT)?,
            },
        );
    }
    Ok(())
}
