//! Splitting a hand-written migration file into statements for `zdm lint`: unlike a schema
//! file, a migration may hold transaction control, DML and psql meta-commands (`\set`), so
//! nothing is rejected here; meta-command lines are blanked (byte for byte, so offsets stay the
//! file's) and a syntax error comes back with its byte offset.

use pg_query::NodeEnum;

use super::{ffi, lexer};
use crate::source::char_to_byte_offset;

/// One statement of a migration file: its byte range (first token to end, without `;`) and
/// its parse tree.
#[derive(Debug, Clone)]
pub struct MigrationStatement {
    pub start: usize,
    pub end: usize,
    pub node: NodeEnum,
}

/// Where and why a migration file does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSyntaxError {
    pub offset: usize,
    pub message: String,
}

pub fn migration_statements(text: &str) -> Result<Vec<MigrationStatement>, MigrationSyntaxError> {
    let input = blank_meta_commands(text);
    let parsed = pg_query::parse(&input, 0).map_err(|e| match ffi::syntax_error(&input) {
        Some(raw) if raw.cursor_chars > 0 => MigrationSyntaxError {
            offset: char_to_byte_offset(&input, raw.cursor_chars - 1),
            message: raw.message,
        },
        Some(raw) => MigrationSyntaxError {
            offset: 0,
            message: raw.message,
        },
        None => MigrationSyntaxError {
            offset: 0,
            message: e.to_string(),
        },
    })?;
    let mut out = Vec::new();
    for raw in parsed.protobuf.stmts {
        let Some(node) = raw.stmt.and_then(|s| s.node) else {
            continue;
        };
        let loc = usize::try_from(raw.stmt_location).unwrap_or(0);
        let start = lexer::skip_trivia(&input, loc);
        let end = match usize::try_from(raw.stmt_len).unwrap_or(0) {
            0 => input.len(),
            len => loc + len,
        };
        let end = start + input[start..end.max(start)].trim_end().len();
        out.push(MigrationStatement { start, end, node });
    }
    Ok(out)
}

fn blank_meta_commands(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    if text.starts_with('\u{feff}') {
        bytes[..3].fill(b' ');
    }
    for (start, end) in lexer::meta_command_lines(text) {
        bytes[start..end].fill(b' ');
    }
    // Whole characters' bytes were replaced by spaces: still valid UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}
