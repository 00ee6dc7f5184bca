//! DDL of domains and their CHECK constraints.

use super::comment_on;
use crate::model::{Domain, DomainCheck};
use crate::sql::quote_ident;

/// `CREATE DOMAIN` with its validated checks inline; a check the files leave `NOT VALID`
/// is added after it (CREATE DOMAIN has no NOT VALID), then the comments.
pub fn create(domain: &Domain) -> Vec<String> {
    let mut text = format!("CREATE DOMAIN {} AS {}", domain.name, domain.base_type);
    if let Some(collation) = &domain.collation {
        text.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(default) = &domain.default {
        text.push_str(&format!(" DEFAULT {default}"));
    }
    if domain.not_null {
        text.push_str(" NOT NULL");
    }
    for check in domain.checks.values().filter(|c| c.validated) {
        text.push_str(&format!(
            "\n    CONSTRAINT {} {}",
            quote_ident(&check.name),
            check.definition
        ));
    }
    text.push(';');
    let mut sql = vec![text];
    for check in domain.checks.values().filter(|c| !c.validated) {
        sql.push(add_check(domain, check, true));
    }
    sql.extend(comments(domain));
    sql
}

pub fn drop(domain: &Domain) -> String {
    format!("DROP DOMAIN {};", domain.name)
}

/// `ALTER DOMAIN ... ADD CONSTRAINT`, `NOT VALID` when existing values are checked later.
pub fn add_check(domain: &Domain, check: &DomainCheck, not_valid: bool) -> String {
    format!(
        "ALTER DOMAIN {} ADD CONSTRAINT {} {}{};",
        domain.name,
        quote_ident(&check.name),
        check.definition,
        if not_valid { " NOT VALID" } else { "" }
    )
}

pub fn validate_check(domain: &Domain, check: &str) -> String {
    format!(
        "ALTER DOMAIN {} VALIDATE CONSTRAINT {};",
        domain.name,
        quote_ident(check)
    )
}

pub fn drop_check(domain: &Domain, check: &str) -> String {
    format!(
        "ALTER DOMAIN {} DROP CONSTRAINT {};",
        domain.name,
        quote_ident(check)
    )
}

pub fn set_default(domain: &Domain) -> String {
    match &domain.default {
        Some(default) => format!("ALTER DOMAIN {} SET DEFAULT {default};", domain.name),
        None => format!("ALTER DOMAIN {} DROP DEFAULT;", domain.name),
    }
}

pub fn set_not_null(domain: &Domain) -> String {
    let verb = if domain.not_null { "SET" } else { "DROP" };
    format!("ALTER DOMAIN {} {verb} NOT NULL;", domain.name)
}

pub fn comment(domain: &Domain) -> String {
    comment_on(
        &format!("DOMAIN {}", domain.name),
        domain.comment.as_deref(),
    )
}

pub fn check_comment(domain: &Domain, check: &DomainCheck) -> String {
    comment_on(
        &format!(
            "CONSTRAINT {} ON DOMAIN {}",
            quote_ident(&check.name),
            domain.name
        ),
        check.comment.as_deref(),
    )
}

/// The domain's comment and its checks' comments, where set.
pub fn comments(domain: &Domain) -> Vec<String> {
    let mut sql: Vec<String> = domain.comment.iter().map(|_| comment(domain)).collect();
    sql.extend(
        domain
            .checks
            .values()
            .filter(|c| c.comment.is_some())
            .map(|c| check_comment(domain, c)),
    );
    sql
}

/// Everything about one domain, as one text: what `zdm diff` compares line by line.
pub fn definition(domain: &Domain) -> String {
    create(domain).join("\n")
}
