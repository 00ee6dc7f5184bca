//! SQL text helpers: identifier and literal quoting. Every name that goes into generated SQL
//! passes through [`quote_ident`]; nothing concatenates raw names.

mod keywords;

pub use keywords::is_keyword_requiring_quotes;

use thiserror::Error;

/// Quote an identifier the way PostgreSQL's `quote_ident()` does: bare when it is a plain
/// lower-case name that is not a reserved word, quoted (with embedded quotes doubled) otherwise.
pub fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain && !is_keyword_requiring_quotes(name) {
        name.to_string()
    } else {
        postgres_protocol::escape::escape_identifier(name)
    }
}

/// Quote a string literal (`'it''s'`, or `E'...'` when it holds a backslash).
pub fn quote_literal(value: &str) -> String {
    postgres_protocol::escape::escape_literal(value)
}

/// A comma-separated list of quoted identifiers.
pub fn quote_ident_list<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| quote_ident(n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("malformed qualified name {text:?}: {reason}")]
pub struct NameSyntaxError {
    pub text: String,
    pub reason: &'static str,
}

/// Split `a.b`, `"A"."b.c"` into its parts, undoing quoting. Unquoted parts are folded to
/// lower case, as PostgreSQL does.
pub fn split_qualified_name(text: &str) -> Result<Vec<String>, NameSyntaxError> {
    let err = |reason| NameSyntaxError {
        text: text.to_string(),
        reason,
    };
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(err("unterminated quoted identifier")),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                part.extend(c.to_lowercase());
                chars.next();
            }
            if part.is_empty() {
                return Err(err("empty name part"));
            }
        }
        parts.push(part);
        match chars.next() {
            None => return Ok(parts),
            Some('.') => continue,
            Some(_) => return Err(err("unexpected character after quoted identifier")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote_ident("users"), "users");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("Users"), "\"Users\"");
        assert_eq!(quote_ident("my table"), "\"my table\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("1abc"), "\"1abc\"");
        assert_eq!(quote_ident("größe"), "\"größe\"");
        assert_eq!(quote_ident("name"), "name");
    }

    #[test]
    fn splits_and_unquotes() {
        assert_eq!(
            split_qualified_name("public.users").unwrap(),
            ["public", "users"]
        );
        assert_eq!(
            split_qualified_name("\"My\"\"S\".\"a.b\"").unwrap(),
            ["My\"S", "a.b"]
        );
        assert_eq!(split_qualified_name("Public.X").unwrap(), ["public", "x"]);
        assert!(split_qualified_name("\"open").is_err());
        assert!(split_qualified_name("a..b").is_err());
    }

    #[test]
    fn round_trips_through_quoting() {
        for name in ["users", "User", "a\"b", "with space", "select", "ünï"] {
            let quoted = format!("{}.{}", quote_ident("s"), quote_ident(name));
            assert_eq!(split_qualified_name(&quoted).unwrap(), ["s", name]);
        }
    }
}
