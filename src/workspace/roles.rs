//! Roles live in the cluster, not in the schema: zdm never creates or drops them on the live
//! database. A role the files name (GRANT, OWNER TO, default privileges, policies) that the
//! live cluster lacks is an error at the first place a statement names it.

use crate::parse::{DesiredSchema, ParseError, ParseErrorKind, ParseErrors, StatementKind};
use crate::source::Span;
use crate::sql::quote_ident;

/// `existing`: the live cluster's roles, read before the shadow load (a shadow on the same
/// cluster creates the bare roles the files name).
pub fn check_roles(
    existing: &std::collections::BTreeSet<String>,
    desired: &DesiredSchema,
) -> Result<(), ParseErrors> {
    let mut errors = Vec::new();
    for role in desired.roles.iter().filter(|r| !existing.contains(*r)) {
        // A role only a (skipped) CREATE ROLE names is needed by nothing.
        let Some(span) = first_mention(desired, role) else {
            continue;
        };
        let diagnostic = desired
            .sources
            .diagnostic(
                span,
                format!(
                    "role {} does not exist on the live database",
                    quote_ident(role)
                ),
            )
            .with_help(
                "zdm never creates roles on the live database (they are cluster-wide): create it there first",
            );
        errors.push(ParseError {
            kind: ParseErrorKind::MissingRole,
            span,
            diagnostic,
        });
    }
    errors.sort_by_key(|e| (e.span.file, e.span.start));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ParseErrors(errors))
    }
}

/// Where a statement other than `CREATE ROLE` first spells `role` (quoted as needed, or
/// bare in any letter case when it needs no quotes).
fn first_mention(desired: &DesiredSchema, role: &str) -> Option<Span> {
    let quoted = quote_ident(role);
    let mut statements: Vec<_> = desired
        .statements
        .iter()
        .filter(|s| !matches!(s.kind, StatementKind::CreateRole(_)))
        .collect();
    statements.sort_by_key(|s| (s.span.file, s.span.start));
    statements.into_iter().find_map(|statement| {
        let text = &statement.text;
        let at = if quoted == role {
            find_word(&text.to_ascii_lowercase(), role)
        } else {
            text.find(&quoted)
        }?;
        let start = statement.span.start + at;
        Some(Span::new(statement.span.file, start, start + quoted.len()))
    })
}

/// The first occurrence of `word` in `text` not inside a longer identifier.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident) && before != Some('"')
    })
}
