//! Drops and renames of schemas, extensions and types that the recipes run (their
//! definitions are in `sql::ddl`).

use crate::diff::EnumValuePosition;
use crate::model::QualifiedName;
use crate::sql::{quote_ident, quote_literal};

pub fn drop_schema(schema: &str) -> String {
    format!("DROP SCHEMA {};", quote_ident(schema))
}

pub fn drop_extension(extension: &str) -> String {
    format!("DROP EXTENSION {};", quote_ident(extension))
}

pub fn drop_type(name: &QualifiedName) -> String {
    format!("DROP TYPE {name};")
}

/// `ALTER EXTENSION name UPDATE TO 'version'`.
pub fn update_extension(extension: &crate::model::Extension) -> String {
    format!(
        "ALTER EXTENSION {} UPDATE TO {};",
        quote_ident(&extension.name),
        quote_literal(&extension.version)
    )
}

/// `ALTER TYPE name RENAME TO new_name` (a type stays in its schema).
pub fn rename_type(name: &QualifiedName, new_name: &str) -> String {
    format!("ALTER TYPE {name} RENAME TO {};", quote_ident(new_name))
}

/// `ALTER EXTENSION name SET SCHEMA schema` (the extension's desired schema).
pub fn set_extension_schema(extension: &crate::model::Extension) -> String {
    format!(
        "ALTER EXTENSION {} SET SCHEMA {};",
        quote_ident(&extension.name),
        quote_ident(&extension.schema)
    )
}

/// `ALTER TYPE name ADD VALUE IF NOT EXISTS 'value' [BEFORE | AFTER 'label']`.
pub fn add_enum_value(name: &QualifiedName, value: &str, position: &EnumValuePosition) -> String {
    let place = match position {
        EnumValuePosition::Before(l) => format!(" BEFORE {}", quote_literal(l)),
        EnumValuePosition::After(l) => format!(" AFTER {}", quote_literal(l)),
        EnumValuePosition::End => String::new(),
    };
    format!(
        "ALTER TYPE {name} ADD VALUE IF NOT EXISTS {}{place};",
        quote_literal(value)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted() {
        let t = QualifiedName::new("app", "Mood");
        assert_eq!(drop_schema("My App"), "DROP SCHEMA \"My App\";");
        assert_eq!(drop_extension("pg_trgm"), "DROP EXTENSION pg_trgm;");
        assert_eq!(drop_type(&t), "DROP TYPE app.\"Mood\";");
        assert_eq!(
            rename_type(&t, "zdm_old_Mood"),
            "ALTER TYPE app.\"Mood\" RENAME TO \"zdm_old_Mood\";"
        );
    }
}
