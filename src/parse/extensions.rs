//! Which extensions the files pin to a version (`CREATE EXTENSION x VERSION '1.2'`, `ALTER
//! EXTENSION x UPDATE TO '1.3'`): only those versions are compared with the live database.

use std::collections::BTreeSet;

use pg_query::NodeEnum;

use super::refs::sval;
use super::Statement;

/// The names of the extensions whose version some statement names.
pub fn pinned_extension_versions(statements: &[Statement]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for statement in statements {
        let lower = statement.text.to_ascii_lowercase();
        if !lower.contains("extension") {
            continue;
        }
        let Ok(parsed) = pg_query::parse(&statement.text, 0) else {
            continue;
        };
        for raw in &parsed.protobuf.stmts {
            let (name, options) = match raw.stmt.as_ref().and_then(|s| s.node.as_ref()) {
                Some(NodeEnum::CreateExtensionStmt(s)) => (&s.extname, &s.options),
                Some(NodeEnum::AlterExtensionStmt(s)) => (&s.extname, &s.options),
                _ => continue,
            };
            let pins = options.iter().any(|o| match o.node.as_ref() {
                Some(NodeEnum::DefElem(d)) => {
                    d.defname == "new_version" && d.arg.as_deref().and_then(sval).is_some()
                }
                _ => false,
            });
            if pins {
                out.insert(name.clone());
            }
        }
    }
    out
}
