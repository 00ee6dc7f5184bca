//! SQL fragments shared by the catalog queries: which schemas and objects are the user's.

/// True for a user schema aliased `n`: not `pg_*` (`pg_catalog`, `pg_toast*`, `pg_temp*`),
/// not `information_schema`, not zdm's own `zdm`.
pub(crate) const USER_SCHEMA: &str = "(n.nspname !~ '^pg_' \
     AND n.nspname <> 'information_schema' AND n.nspname <> 'zdm')";

/// `NOT EXISTS` an extension membership (`pg_depend.deptype = 'e'`) of object `oid_expr` from
/// system catalog `catalog` (e.g. `pg_class`).
pub(crate) fn not_extension_member(catalog: &str, oid_expr: &str) -> String {
    format!(
        "NOT EXISTS (SELECT FROM pg_catalog.pg_depend ext_d \
         WHERE ext_d.classid = 'pg_catalog.{catalog}'::pg_catalog.regclass \
         AND ext_d.objid = {oid_expr} AND ext_d.deptype = 'e')"
    )
}

/// Not created as an internal part of another object (`deptype = 'i'`): a range type's
/// constructor functions and multirange casts, an identity column's sequence, ...
pub(crate) fn not_internal(catalog: &str, oid_expr: &str) -> String {
    format!(
        "NOT EXISTS (SELECT FROM pg_catalog.pg_depend int_d
         WHERE int_d.classid = 'pg_catalog.{catalog}'::pg_catalog.regclass
         AND int_d.objid = {oid_expr} AND int_d.deptype = 'i')"
    )
}
