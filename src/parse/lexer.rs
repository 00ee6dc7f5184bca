//! A tiny SQL lexer for what the parser cannot tell us: where psql meta-commands (`\connect`,
//! `\i`, ...) sit, which are not SQL at all, and where a statement's first token starts.

/// Byte ranges `[start, end)` of lines that begin (after blanks) with a backslash outside any
/// string, quoted identifier, dollar quote or comment: psql meta-commands.
pub fn meta_command_lines(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut at_line_start = true;
    while i < b.len() {
        if at_line_start {
            at_line_start = false;
            let mut j = i;
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                j += 1;
            }
            if j < b.len() && b[j] == b'\\' {
                let end = text[j..].find('\n').map(|n| j + n).unwrap_or(b.len());
                out.push((j, end));
                i = end;
                continue;
            }
        }
        match b[i] {
            b'\n' => {
                at_line_start = true;
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = text[i..].find('\n').map(|n| i + n).unwrap_or(b.len());
            }
            b'/' if b.get(i + 1) == Some(&b'*') => i = skip_block_comment(b, i),
            b'\'' => {
                let escapes =
                    i > 0 && matches!(b[i - 1], b'e' | b'E') && (i < 2 || !is_ident_byte(b[i - 2]));
                i = skip_quoted(b, i, b'\'', escapes);
            }
            b'"' => i = skip_quoted(b, i, b'"', false),
            b'$' if i == 0 || !is_ident_byte(b[i - 1]) => match dollar_tag(b, i) {
                Some(tag_end) => {
                    let tag = &text[i..tag_end];
                    i = text[tag_end..]
                        .find(tag)
                        .map(|n| tag_end + n + tag.len())
                        .unwrap_or(b.len());
                }
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    out
}

/// Skip blanks and comments from `start`; returns the offset of the next token (or the end).
pub fn skip_trivia(text: &str, start: usize) -> usize {
    let b = text.as_bytes();
    let mut i = start;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b[i..].starts_with(b"--") {
            i = text[i..].find('\n').map(|n| i + n).unwrap_or(b.len());
        } else if b[i..].starts_with(b"/*") {
            i = skip_block_comment(b, i);
        } else {
            return i;
        }
    }
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

fn skip_block_comment(b: &[u8], start: usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    while i < b.len() {
        if b[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if b[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

fn skip_quoted(b: &[u8], start: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        if backslash_escapes && b[i] == b'\\' {
            i += 2;
        } else if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// If a dollar-quote opening tag (`$$`, `$tag$`) starts at `start`, the offset just past it.
fn dollar_tag(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if i < b.len() && b[i].is_ascii_digit() {
        return None;
    }
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
        i += 1;
    }
    (b.get(i) == Some(&b'$')).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_meta_commands_outside_literals() {
        let text = "\\connect db\nCREATE FUNCTION f() RETURNS int AS $x$\n\\not\n$x$;\n  \\i other.sql\nSELECT '\n\\no';\n/*\n\\no */ -- \\no\n";
        let found: Vec<&str> = meta_command_lines(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(found, ["\\connect db", "\\i other.sql"]);
    }

    #[test]
    fn skips_comments() {
        assert_eq!(skip_trivia("  -- a\n /* b /* c */ */ x", 0), 24);
        assert_eq!(skip_trivia("x", 0), 0);
        assert_eq!(skip_trivia("  ", 0), 2);
    }
}
