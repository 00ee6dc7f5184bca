//! DDL of collations.

use super::comment_on;
use crate::model::{Collation, CollationProvider};
use crate::sql::quote_literal;

pub fn create(collation: &Collation) -> String {
    let mut options = vec![format!("provider = {}", collation.provider.sql())];
    match collation.provider {
        CollationProvider::Libc => {
            let collate = collation.lc_collate.as_deref().unwrap_or("C");
            let ctype = collation.lc_ctype.as_deref().unwrap_or(collate);
            options.push(format!("lc_collate = {}", quote_literal(collate)));
            options.push(format!("lc_ctype = {}", quote_literal(ctype)));
        }
        CollationProvider::Icu | CollationProvider::Builtin => {
            let locale = collation.locale.as_deref().unwrap_or("");
            options.push(format!("locale = {}", quote_literal(locale)));
        }
    }
    if let Some(rules) = &collation.rules {
        options.push(format!("rules = {}", quote_literal(rules)));
    }
    if !collation.deterministic {
        options.push("deterministic = false".to_string());
    }
    format!(
        "CREATE COLLATION {} ({});",
        collation.name,
        options.join(", ")
    )
}

pub fn drop(collation: &Collation) -> String {
    format!("DROP COLLATION {};", collation.name)
}

pub fn comment(collation: &Collation) -> String {
    comment_on(
        &format!("COLLATION {}", collation.name),
        collation.comment.as_deref(),
    )
}

pub fn definition(collation: &Collation) -> String {
    let mut lines = vec![create(collation)];
    if collation.comment.is_some() {
        lines.push(comment(collation));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::QualifiedName;

    #[test]
    fn icu_and_libc_collations() {
        let icu = Collation {
            name: QualifiedName::new("public", "numeric"),
            provider: CollationProvider::Icu,
            locale: Some("en-u-kn-true".into()),
            lc_collate: None,
            lc_ctype: None,
            deterministic: false,
            rules: None,
            comment: Some("digits as numbers".into()),
        };
        assert_eq!(
            definition(&icu),
            "CREATE COLLATION public.\"numeric\" (provider = icu, locale = 'en-u-kn-true', \
             deterministic = false);\nCOMMENT ON COLLATION public.\"numeric\" IS 'digits as numbers';"
        );
        let libc = Collation {
            provider: CollationProvider::Libc,
            locale: None,
            lc_collate: Some("POSIX".into()),
            lc_ctype: Some("POSIX".into()),
            deterministic: true,
            comment: None,
            ..icu
        };
        assert_eq!(
            create(&libc),
            "CREATE COLLATION public.\"numeric\" (provider = libc, lc_collate = 'POSIX', lc_ctype = 'POSIX');"
        );
    }
}
