//! Source files of the desired schema: reading them, byte spans, line/column locations and
//! diagnostics that point into them.
//!
//! Offsets are byte offsets into a file's text. Locations are 1-based; the column counts
//! characters (Unicode scalar values), not bytes, so text with multi-byte characters before the
//! position still reports the column an editor shows.

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Index of a file in a [`SourceSet`]. Files are sorted by path, so comparing ids compares
/// paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub usize);

/// A byte range `[start, end)` in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span { file, start, end }
    }

    /// The position where the span starts.
    pub fn start_pos(&self) -> Pos {
        Pos {
            file: self.file,
            offset: self.start,
        }
    }
}

/// A single byte offset in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub file: FileId,
    pub offset: usize,
}

impl From<Span> for Pos {
    fn from(span: Span) -> Pos {
        span.start_pos()
    }
}

impl From<(FileId, usize)> for Pos {
    fn from((file, offset): (FileId, usize)) -> Pos {
        Pos { file, offset }
    }
}

/// A human position: `path:line:column`, 1-based, column in characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

/// One source file: its path as given (or as found under a given directory) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    /// Byte offset of the start of every line (the first is 0).
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and character column of a byte offset (clamped to the text, and moved back
    /// to a character boundary when it falls inside a character).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line_index = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line_index];
        let column = self.text[start..offset].chars().count() + 1;
        (line_index + 1, column)
    }

    /// The text of a 1-based line, without its line terminator.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map(|&next| next - 1)
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches('\r')
    }

    /// Byte offset of the start of a 1-based line (the end of the text past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len())
    }

    /// Number of lines (a final line without terminator counts).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Byte offset within `text` of the `chars`-th character (0-based), clamped to the end.
pub fn char_to_byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map(|(i, _)| i)
        .unwrap_or(text.len())
}

/// Reading the desired schema's files failed.
///
/// Decisions: a path that does not exist is an error naming it; a directory (given, or found
/// while recursing) is read for `*.sql` files only, skipping entries whose name starts with `.`
/// (such as `.git`) below the given paths; a given directory that holds no `.sql` file at all, or
/// an empty list of paths, is an error rather than an empty desired schema, because an empty
/// desired schema would plan to drop everything; files must be UTF-8.
#[derive(Debug, Error)]
pub enum SourceError {
    #[error("{path}: no such file or directory")]
    Missing { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not valid UTF-8 (at byte {offset})")]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{path}: directory contains no .sql files")]
    NoSqlFiles { path: PathBuf },
    #[error("no schema paths given")]
    NoPaths,
}

/// The files of a desired schema, sorted by path (and deduplicated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSet {
    files: Vec<SourceFile>,
}

impl SourceSet {
    /// Read each path: a file is taken as is (whatever its extension), a directory is searched
    /// recursively for `*.sql` files. See [`SourceError`] for what counts as an error.
    pub fn read(paths: &[PathBuf]) -> Result<SourceSet, SourceError> {
        if paths.is_empty() {
            return Err(SourceError::NoPaths);
        }
        let mut found = Vec::new();
        for path in paths {
            let meta = std::fs::metadata(path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    SourceError::Missing { path: path.clone() }
                } else {
                    SourceError::Io {
                        path: path.clone(),
                        source: e,
                    }
                }
            })?;
            if meta.is_dir() {
                let before = found.len();
                collect_sql_files(path, &mut found)?;
                if found.len() == before {
                    return Err(SourceError::NoSqlFiles { path: path.clone() });
                }
            } else {
                found.push(path.clone());
            }
        }
        found.sort();
        found.dedup();
        let mut files = Vec::with_capacity(found.len());
        for path in found {
            let bytes = std::fs::read(&path).map_err(|e| SourceError::Io {
                path: path.clone(),
                source: e,
            })?;
            let text = String::from_utf8(bytes).map_err(|e| SourceError::NotUtf8 {
                path: path.clone(),
                offset: e.utf8_error().valid_up_to(),
            })?;
            files.push(SourceFile::new(path, text));
        }
        Ok(SourceSet { files })
    }

    /// A set from in-memory texts (tests, stdin, generated schemas). Sorted by path like
    /// [`SourceSet::read`].
    pub fn from_texts<P: Into<PathBuf>, T: Into<String>>(
        files: impl IntoIterator<Item = (P, T)>,
    ) -> SourceSet {
        let mut files: Vec<SourceFile> = files
            .into_iter()
            .map(|(p, t)| SourceFile::new(p, t))
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup_by(|a, b| a.path == b.path);
        SourceSet { files }
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    pub fn ids(&self) -> impl Iterator<Item = FileId> {
        (0..self.files.len()).map(FileId)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.files[id.0].path
    }

    /// The text a span covers.
    pub fn text(&self, span: Span) -> &str {
        &self.files[span.file.0].text[span.start..span.end]
    }

    /// `path:line:col` of a span's start or of an offset.
    pub fn location(&self, at: impl Into<Pos>) -> Location {
        let pos = at.into();
        let file = self.file(pos.file);
        let (line, column) = file.line_col(pos.offset);
        Location {
            path: file.path.clone(),
            line,
            column,
        }
    }

    /// A diagnostic at a position, carrying the offending line for rendering.
    pub fn diagnostic(&self, at: impl Into<Pos>, message: impl Into<String>) -> Diagnostic {
        let pos = at.into();
        let location = self.location(pos);
        let source_line = self.file(pos.file).line_text(location.line).to_string();
        Diagnostic {
            location,
            message: message.into(),
            source_line,
            help: None,
        }
    }
}

fn collect_sql_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let io = |e| SourceError::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(|e| SourceError::Io {
            path: path.clone(),
            source: e,
        })?;
        if meta.is_dir() {
            collect_sql_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

/// A message about a place in a source file.
///
/// `Display` is one line, `path:line:col: message`; [`Diagnostic::render`] adds the offending
/// source line with a caret under the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub location: Location,
    pub message: String,
    /// The full text of the line `location` points into (without the line terminator).
    pub source_line: String,
    /// An optional hint, rendered after the source excerpt.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Multi-line rendering in the style of rustc:
    ///
    /// ```text
    /// error: syntax error at or near "TABEL"
    ///  --> schema/a.sql:3:8
    ///   |
    /// 3 | CREATE TABEL t (a int);
    ///   |        ^
    /// ```
    pub fn render(&self) -> String {
        let line_no = self.location.line.to_string();
        let pad = " ".repeat(line_no.len());
        // Tabs would make the caret drift: show them as single spaces in both lines.
        let shown: String = self
            .source_line
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .collect();
        let caret_pad = " ".repeat(self.location.column.saturating_sub(1));
        let mut out = format!(
            "error: {}\n{pad}--> {}\n{pad} |\n{line_no} | {shown}\n{pad} | {caret_pad}^",
            self.message, self.location
        );
        if let Some(help) = &self.help {
            out.push_str(&format!("\n{pad} = help: {help}"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for Diagnostic {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_character_column() {
        let set = SourceSet::from_texts([("a.sql", "ab\n'héllo' x\r\nlast")]);
        let f = FileId(0);
        assert_eq!(set.file(f).line_col(0), (1, 1));
        assert_eq!(set.file(f).line_col(3), (2, 1));
        // x is the 9th character but starts at byte 9 of the line (é is two bytes).
        let x = set.file(f).text.find('x').unwrap();
        assert_eq!(set.location((f, x)).to_string(), "a.sql:2:9");
        assert_eq!(set.file(f).line_text(2), "'héllo' x");
        assert_eq!(set.file(f).line_text(3), "last");
        let d = set.diagnostic((f, x), "boom");
        assert_eq!(d.to_string(), "a.sql:2:9: boom");
        assert_eq!(
            d.render(),
            "error: boom\n --> a.sql:2:9\n  |\n2 | 'héllo' x\n  |         ^"
        );
    }
}
