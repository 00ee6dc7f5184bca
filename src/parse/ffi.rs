//! The one place that calls libpg_query directly: the safe `pg_query::parse` drops the error's
//! cursor position, which file:line:col errors need. The C symbols are linked in by the
//! `pg_query` crate; the structs mirror `pg_query.h` (libpg_query 18).

use std::ffi::{c_char, c_int, CStr, CString};

#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQueryParseResult {
    parse_tree: *mut c_char,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

extern "C" {
    fn pg_query_parse(input: *const c_char) -> PgQueryParseResult;
    fn pg_query_free_parse_result(result: PgQueryParseResult);
}

/// A parser error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSyntaxError {
    pub message: String,
    /// 1-based *character* position in the input (PostgreSQL's `errposition`), 0 if unknown.
    pub cursor_chars: usize,
}

/// Parse `sql` and return its error, if any, with the cursor position.
pub fn syntax_error(sql: &str) -> Option<RawSyntaxError> {
    let input = CString::new(sql).ok()?;
    // SAFETY: `input` is a valid NUL-terminated string that outlives the call; the result is
    // freed exactly once with the matching free function, after copying what we need out of it.
    unsafe {
        let result = pg_query_parse(input.as_ptr());
        let out = if result.error.is_null() {
            None
        } else {
            let err = &*result.error;
            let message = if err.message.is_null() {
                String::from("syntax error")
            } else {
                CStr::from_ptr(err.message).to_string_lossy().into_owned()
            };
            Some(RawSyntaxError {
                message,
                cursor_chars: usize::try_from(err.cursorpos).unwrap_or(0),
            })
        };
        pg_query_free_parse_result(result);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_is_in_characters() {
        let ascii = syntax_error("select 'hello' from from;").unwrap();
        let multi = syntax_error("select 'héllo' from from;").unwrap();
        assert_eq!(ascii.cursor_chars, multi.cursor_chars);
        assert!(syntax_error("select 1").is_none());
    }
}
