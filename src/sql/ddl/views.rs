//! DDL of views and materialized views, from their catalog renderings.

use super::comment_on;
use crate::model::{Kind, ObjectId, QualifiedName, View, ViewIndex};

fn with_options(view: &View) -> String {
    if view.options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", view.options.join(", "))
    }
}

/// What a view is created by: its query as written in the files when known, else
/// PostgreSQL's rendering (which, applied again, may be stored differently).
fn query(view: &View) -> &str {
    view.source.as_deref().unwrap_or(&view.definition)
}

/// `CREATE [MATERIALIZED] VIEW ... AS <query>`; a materialized view is populated.
pub fn create(view: &View) -> String {
    if view.materialized() {
        format!(
            "CREATE MATERIALIZED VIEW {}{} AS\n{}\nWITH {}DATA;",
            view.name,
            with_options(view),
            view.definition,
            if view.populated { "" } else { "NO " }
        )
    } else {
        format!(
            "CREATE VIEW {}{} AS\n{};",
            view.name,
            with_options(view),
            query(view)
        )
    }
}

/// `CREATE OR REPLACE VIEW`, and the options `from` had that `to` drops (OR REPLACE keeps
/// options it is not given).
pub fn replace(from: &View, to: &View) -> String {
    let mut sql = format!(
        "CREATE OR REPLACE VIEW {}{} AS\n{};",
        to.name,
        with_options(to),
        query(to)
    );
    let key = |o: &String| o.split('=').next().unwrap_or_default().to_string();
    let kept: Vec<String> = to.options.iter().map(key).collect();
    let reset: Vec<String> = from
        .options
        .iter()
        .map(key)
        .filter(|k| !kept.contains(k))
        .collect();
    if !reset.is_empty() {
        sql.push_str(&format!(
            "\nALTER VIEW {} RESET ({});",
            to.name,
            reset.join(", ")
        ));
    }
    sql
}

pub fn drop(view: &View) -> String {
    format!("DROP {} {};", view.id.kind.sql(), view.name)
}

/// The comments a newly created view carries: its own, its columns', its indexes'.
pub fn comments(view: &View) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(comment) = &view.comment {
        out.push(comment_on(&view.id.sql(), Some(comment)));
    }
    for column in &view.columns {
        if let Some(comment) = &column.comment {
            let target = ObjectId::member(Kind::Column, &view.name, &column.name);
            out.push(comment_on(&target.sql(), Some(comment)));
        }
    }
    for index in view.indexes.values().filter(|i| i.comment.is_some()) {
        out.push(index_comment(&view.name, index));
    }
    out
}

pub fn index_comment(view: &QualifiedName, index: &ViewIndex) -> String {
    let target = ObjectId::member(Kind::Index, view, &index.name);
    comment_on(&target.sql(), index.comment.as_deref())
}

pub fn drop_index(view: &QualifiedName, index: &ViewIndex, concurrently: bool) -> String {
    format!(
        "DROP INDEX{} {};",
        if concurrently { " CONCURRENTLY" } else { "" },
        QualifiedName::new(view.schema.clone(), index.name.clone())
    )
}

/// Everything about one view, as one text: what `zdm diff` shows line by line.
pub fn definition(view: &View) -> String {
    let mut lines = vec![create(view)];
    for index in view.indexes.values() {
        lines.push(format!("{};", index.definition));
    }
    lines.extend(comments(view));
    lines.join("\n")
}

/// A view named `alias` that reads and writes `table` as is (auto-updatable): what the old
/// application uses while a renamed table is read under both names.
pub fn create_alias(alias: &QualifiedName, table: &QualifiedName) -> String {
    format!("CREATE VIEW {alias} AS SELECT * FROM {table};")
}

pub fn drop_if_exists(view: &QualifiedName) -> String {
    format!("DROP VIEW IF EXISTS {view};")
}

/// `DROP MATERIALIZED VIEW [IF EXISTS]` by name (a copy or the old one set aside).
pub fn drop_materialized(view: &QualifiedName, if_exists: bool) -> String {
    let if_exists = if if_exists { "IF EXISTS " } else { "" };
    format!("DROP MATERIALIZED VIEW {if_exists}{view};")
}

/// `ALTER MATERIALIZED VIEW view RENAME TO new_name` (it stays in its schema).
pub fn rename_materialized(view: &QualifiedName, new_name: &str) -> String {
    format!(
        "ALTER MATERIALIZED VIEW {view} RENAME TO {};",
        crate::sql::quote_ident(new_name)
    )
}
