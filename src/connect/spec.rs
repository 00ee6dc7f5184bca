//! Reading connection specs the way libpq does: `key=value` strings with quoting, and the
//! URL form's percent-encoding, plus the two SSL settings zdm handles itself.

use std::path::PathBuf;

use super::{ConnectError, SslMode};

pub(super) fn kv(key: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\');
    if plain {
        format!("{key}={value}")
    } else {
        let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
        format!("{key}='{escaped}'")
    }
}

type SslParts = (String, Option<SslMode>, Option<PathBuf>);

/// Take `sslmode` and `sslrootcert` out of a spec (tokio-postgres rejects `verify-*` and does
/// not know `sslrootcert`), returning the rest of the spec for tokio-postgres.
pub(super) fn extract_ssl(spec: &str) -> Result<SslParts, ConnectError> {
    let mut mode = None;
    let mut root = None;
    let trimmed = spec.trim();
    let url_rest = trimmed
        .strip_prefix("postgresql://")
        .or_else(|| trimmed.strip_prefix("postgres://"));
    if let Some(after_scheme) = url_rest {
        let prefix_len = trimmed.len() - after_scheme.len();
        // Like tokio-postgres: credentials run up to the first '@'.
        let query_search_from = after_scheme.find('@').map(|i| i + 1).unwrap_or(0);
        let Some(q) = after_scheme[query_search_from..].find('?') else {
            return Ok((trimmed.to_string(), None, None));
        };
        let q = query_search_from + q;
        let base = &trimmed[..prefix_len + q];
        let mut kept = Vec::new();
        for pair in after_scheme[q + 1..].split('&') {
            if pair.is_empty() {
                continue;
            }
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match percent_decode(key)?.as_str() {
                "sslmode" => mode = Some(percent_decode(value)?.parse()?),
                "sslrootcert" => root = Some(PathBuf::from(percent_decode(value)?)),
                _ => kept.push(pair),
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((rest, mode, root));
    }

    let mut kept = Vec::new();
    for (key, value) in parse_key_values(spec)? {
        match key.as_str() {
            "sslmode" => mode = Some(value.parse()?),
            "sslrootcert" => root = Some(PathBuf::from(value)),
            _ => kept.push(kv(&key, &value)),
        }
    }
    Ok((kept.join(" "), mode, root))
}

/// libpq key=value syntax: `key = value`, values bare or single-quoted, backslash escapes.
fn parse_key_values(spec: &str) -> Result<Vec<(String, String)>, ConnectError> {
    let bad = |m: &str| ConnectError::InvalidSpec(m.to_string());
    let mut out = Vec::new();
    let mut chars = spec.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            if chars.peek().is_some() {
                return Err(bad("missing parameter name before \"=\""));
            }
            return Ok(out);
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(ConnectError::InvalidSpec(format!(
                "missing \"=\" after {key:?}"
            )));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some('\\') => {
                        if let Some(c) = chars.next() {
                            value.push(c);
                        }
                    }
                    Some(c) => value.push(c),
                    None => {
                        return Err(bad("unterminated quoted value"));
                    }
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    if let Some(c2) = chars.next() {
                        value.push(c2);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
}

fn percent_decode(s: &str) -> Result<String, ConnectError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| ConnectError::InvalidSpec("percent-encoded value is not UTF-8".to_string()))
}
