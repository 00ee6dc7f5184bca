//! Collations (`pg_collation`) in user schemas. The locale columns moved between versions
//! (`colliculocale` in 15-16, `colllocale` in 17+, `collcollate` for ICU before 15), so they
//! are read through `to_jsonb` of the row, which has whichever the server has.

use std::collections::BTreeMap;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{named, CatalogError};
use crate::model::{Collation, CollationProvider, QualifiedName};

pub(crate) async fn collations(
    client: &Reader<'_>,
) -> Result<BTreeMap<QualifiedName, Collation>, CatalogError> {
    const WHAT: &str = "collations";
    let sql = format!(
        "SELECT n.nspname::text AS schema, o.collname::text AS name,
                o.collprovider::text AS provider, o.collisdeterministic AS deterministic,
                o.collcollate::text AS lc_collate, o.collctype::text AS lc_ctype,
                COALESCE(pg_catalog.to_jsonb(o) ->> 'colllocale',
                         pg_catalog.to_jsonb(o) ->> 'colliculocale') AS locale,
                pg_catalog.to_jsonb(o) ->> 'collicurules' AS rules,
                pg_catalog.obj_description(o.oid, 'pg_collation') AS comment
         FROM pg_catalog.pg_collation o
         JOIN pg_catalog.pg_namespace n ON n.oid = o.collnamespace
         WHERE o.collprovider <> 'd' AND {USER_SCHEMA} AND {}",
        not_extension_member("pg_collation", "o.oid")
    );
    let mut out = BTreeMap::new();
    for row in client.query(WHAT, &sql).await? {
        let name = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "name", WHAT)?,
        );
        let lc_collate: Option<String> = named(&row, "lc_collate", WHAT)?;
        let lc_ctype: Option<String> = named(&row, "lc_ctype", WHAT)?;
        let locale: Option<String> = named(&row, "locale", WHAT)?;
        let provider = match named::<String>(&row, "provider", WHAT)?.as_str() {
            "i" => CollationProvider::Icu,
            "b" => CollationProvider::Builtin,
            "c" => CollationProvider::Libc,
            other => {
                return Err(CatalogError::unexpected(
                    WHAT,
                    format!("collprovider {other:?}"),
                ))
            }
        };
        let (locale, lc_collate, lc_ctype) = match provider {
            CollationProvider::Libc => (None, lc_collate, lc_ctype),
            // Before 15, an ICU collation's locale is its collcollate.
            _ => (locale.or(lc_collate), None, None),
        };
        out.insert(
            name.clone(),
            Collation {
                name,
                provider,
                locale,
                lc_collate,
                lc_ctype,
                deterministic: named(&row, "deterministic", WHAT)?,
                rules: named(&row, "rules", WHAT)?,
                comment: named(&row, "comment", WHAT)?,
            },
        );
    }
    Ok(out)
}
