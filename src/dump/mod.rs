//! `zdm dump`: a live schema written as the files a person would keep in a schema repository.
//!
//! The text of every object comes from the same DDL renderings the planner and `zdm diff`
//! use, so a dump loads back into the model it was made from. Files are pure functions of the
//! model (sorted, no timestamps): dumping twice gives byte-identical files, and re-dumping
//! into a repository touches only the files whose objects changed (see [`write`]).

mod objects;
mod write;

pub use write::{write, WriteError, WriteReport, HEADER};

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::model::{Model, QualifiedName};

/// How objects are spread over files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Everything in one `schema.sql`.
    Flat,
    /// One file per schema (`public.sql`), plus `extensions.sql` and `default_privileges.sql`.
    PerSchema,
    /// One directory per schema, one file per table, view, function name, type, collation and
    /// sequence
    /// (`public/tables/orders.sql`); the schema itself in `public/schema.sql`.
    PerObject,
}

/// What a chunk of text is, which picks its directory and its place in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Extension,
    DefaultPrivileges,
    Schema,
    Collation,
    Type,
    Sequence,
    Table,
    View,
    Function,
    /// Database-wide, after the functions they call.
    EventTrigger,
}

impl Group {
    /// The directory of a per-object layout (`None`: a file of the schema's own).
    fn directory(self) -> Option<&'static str> {
        match self {
            Group::Extension | Group::DefaultPrivileges | Group::Schema | Group::EventTrigger => {
                None
            }
            Group::Collation => Some("collations"),
            Group::Type => Some("types"),
            Group::Sequence => Some("sequences"),
            Group::Table => Some("tables"),
            Group::View => Some("views"),
            Group::Function => Some("functions"),
        }
    }
}

/// The statements of one object, and where they go.
#[derive(Debug, Clone)]
struct Chunk {
    /// `None`: database-wide (extensions, default privileges).
    schema: Option<String>,
    group: Group,
    /// The object whose file this goes in: a table for its partitions and serial sequences, a
    /// function name for each of its overloads.
    file_name: String,
    /// Order within a file: sequences a table needs, the table, its partitions, what needs
    /// them all.
    rank: u8,
    sort: String,
    lines: Vec<String>,
}

impl Chunk {
    fn new(schema: &str, group: Group, file_name: &str, lines: Vec<String>) -> Chunk {
        Chunk {
            schema: Some(schema.to_string()),
            group,
            file_name: file_name.to_string(),
            rank: 1,
            sort: file_name.to_string(),
            lines,
        }
    }

    fn of(name: &QualifiedName, group: Group, lines: Vec<String>) -> Chunk {
        Chunk::new(&name.schema, group, &name.name, lines)
    }

    fn database(group: Group, sort: &str, lines: Vec<String>) -> Chunk {
        Chunk {
            schema: None,
            group,
            file_name: String::new(),
            rank: 1,
            sort: sort.to_string(),
            lines,
        }
    }

    fn path(&self, layout: Layout) -> PathBuf {
        let database_file = match self.group {
            Group::Extension => "extensions.sql",
            Group::EventTrigger => "event_triggers.sql",
            _ => "default_privileges.sql",
        };
        match (layout, &self.schema) {
            (Layout::Flat, _) => PathBuf::from("schema.sql"),
            (_, None) => PathBuf::from(database_file),
            (Layout::PerSchema, Some(schema)) => {
                PathBuf::from(format!("{}.sql", file_safe(schema)))
            }
            (Layout::PerObject, Some(schema)) => {
                let dir = PathBuf::from(file_safe(schema));
                match self.group.directory() {
                    None => dir.join("schema.sql"),
                    Some(sub) => dir
                        .join(sub)
                        .join(format!("{}.sql", file_safe(&self.file_name))),
                }
            }
        }
    }
}

/// A name as a file name: what is not a letter, digit, `_`, `-` or `.` becomes `_`, and a
/// leading dot too (no hidden files).
fn file_safe(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with('.') {
        out.insert(0, '_');
    }
    out
}

/// Every file of a dump of `model`: relative path to contents.
pub fn files(model: &Model, layout: Layout) -> BTreeMap<PathBuf, String> {
    files_with_data(model, layout, &BTreeMap::new())
}

/// [`files`], with the rows of some tables (`INSERT` statements by table, see
/// [`crate::data::insert_statement`]): those tables are marked `-- zdm:data`.
pub fn files_with_data(
    model: &Model,
    layout: Layout,
    data: &BTreeMap<QualifiedName, String>,
) -> BTreeMap<PathBuf, String> {
    let mut chunks = objects::chunks(model, data);
    chunks.retain(|c| c.lines.iter().any(|l| !l.is_empty()));
    // Database-wide statements first, then by schema, kind and object.
    chunks.sort_by(|a, b| {
        (
            a.schema.is_some(),
            &a.schema,
            a.group,
            &a.file_name,
            a.rank,
            &a.sort,
        )
            .cmp(&(
                b.schema.is_some(),
                &b.schema,
                b.group,
                &b.file_name,
                b.rank,
                &b.sort,
            ))
    });
    let mut grouped: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for chunk in chunks {
        grouped
            .entry(chunk.path(layout))
            .or_default()
            .push(chunk.lines.join("\n"));
    }
    grouped
        .into_iter()
        .map(|(path, texts)| (path, format!("{HEADER}\n\n{}\n", texts.join("\n\n"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_safe_file_names() {
        assert_eq!(file_safe("orders"), "orders");
        assert_eq!(file_safe("Order Items/2024"), "Order_Items_2024");
        assert_eq!(file_safe(".hidden"), "_.hidden");
        assert_eq!(file_safe(""), "_");
    }

    #[test]
    fn an_empty_model_dumps_nothing_and_public_alone_dumps_nothing() {
        assert!(files(&Model::default(), Layout::PerObject).is_empty());
        let mut model = Model::default();
        model.schemas.insert(
            "public".into(),
            crate::model::Schema {
                name: "public".into(),
                comment: None,
            },
        );
        assert!(files(&model, Layout::PerObject).is_empty());
    }

    #[test]
    fn each_layout_places_a_table_where_it_says() {
        let mut model = Model::default();
        model.schemas.insert(
            "app".into(),
            crate::model::Schema {
                name: "app".into(),
                comment: None,
            },
        );
        let per_object = files(&model, Layout::PerObject);
        assert_eq!(
            per_object.keys().collect::<Vec<_>>(),
            vec![&PathBuf::from("app/schema.sql")]
        );
        assert!(per_object[&PathBuf::from("app/schema.sql")].contains("CREATE SCHEMA app;"));
        let per_schema = files(&model, Layout::PerSchema);
        assert!(per_schema.contains_key(&PathBuf::from("app.sql")));
        let flat = files(&model, Layout::Flat);
        assert!(flat[&PathBuf::from("schema.sql")].starts_with(HEADER));
    }
}
