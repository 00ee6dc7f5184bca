//! The query of `-- zdm:backfill-from SELECT ...`: parsed, checked for a shape zdm's row
//! triggers can keep in step, and split into the parts the copy and the trigger reuse.

use pg_query::protobuf::{self, Token};
use pg_query::{NodeEnum, NodeRef};

use crate::model::QualifiedName;
use crate::sql::ddl::moved_rows::RowSource;

const SHAPE: &str = "zdm keeps the new table in step with a row trigger on one source table: \
                     write `SELECT <columns> FROM <table> [[AS] alias] [WHERE <condition>]`";

/// Parse `query` (the annotation's argument) for a table in schema `schema`. An error is a
/// byte offset into `query` and a message.
pub(crate) fn row_source(query: &str, schema: &str) -> Result<RowSource, (usize, String)> {
    let parsed = pg_query::parse(query, 0).map_err(|e| (0, e.to_string()))?;
    let stmts = &parsed.protobuf.stmts;
    let select = match stmts.as_slice() {
        [one] => match one.stmt.as_ref().and_then(|s| s.node.as_ref()) {
            Some(NodeEnum::SelectStmt(s)) => s,
            _ => return Err((0, "`zdm:backfill-from` needs a SELECT query".into())),
        },
        _ => {
            return Err((
                0,
                "`zdm:backfill-from` needs exactly one SELECT query".into(),
            ))
        }
    };
    check_shape(select)?;
    for (node, ..) in parsed.protobuf.nodes() {
        let refused = match node {
            NodeRef::SubLink(s) => Some(("a subquery", s.location)),
            NodeRef::RangeSubselect(_) => Some(("a subquery", 0)),
            NodeRef::FuncCall(f) if f.over.is_some() => Some(("a window function", f.location)),
            _ => None,
        };
        if let Some((what, at)) = refused {
            return Err((
                at.max(0) as usize,
                format!("{what} cannot be kept in step by a row trigger; {SHAPE}"),
            ));
        }
    }
    let from = match select.from_clause.as_slice() {
        [one] => match one.node.as_ref() {
            Some(NodeEnum::RangeVar(rv)) => rv,
            Some(NodeEnum::JoinExpr(_)) => {
                return Err((0, format!("joins are not supported yet; {SHAPE}")))
            }
            _ => return Err((0, SHAPE.to_string())),
        },
        [] => return Err((0, format!("the query reads no table; {SHAPE}"))),
        _ => return Err((0, format!("the query reads more than one table; {SHAPE}"))),
    };
    let source = QualifiedName::new(
        if from.schemaname.is_empty() {
            schema
        } else {
            &from.schemaname
        },
        from.relname.clone(),
    );
    let alias = from
        .alias
        .as_ref()
        .map_or_else(|| from.relname.clone(), |a| a.aliasname.clone());
    let columns = output_names(select)?;
    let reads = column_refs(&parsed);
    let functions = function_names(&parsed);
    let (select_list, where_clause) = split(query)?;
    Ok(RowSource {
        query: query.trim().trim_end_matches(';').trim_end().to_string(),
        source,
        alias,
        select_list,
        where_clause,
        columns,
        reads,
        functions,
    })
}

fn check_shape(select: &protobuf::SelectStmt) -> Result<(), (usize, String)> {
    let refused = [
        (select.with_clause.is_some(), "WITH"),
        (
            select.op != protobuf::SetOperation::SetopNone as i32,
            "UNION/INTERSECT/EXCEPT",
        ),
        (!select.values_lists.is_empty(), "VALUES"),
        (!select.distinct_clause.is_empty(), "DISTINCT"),
        (!select.group_clause.is_empty(), "GROUP BY"),
        (select.having_clause.is_some(), "HAVING"),
        (!select.window_clause.is_empty(), "WINDOW"),
        (!select.sort_clause.is_empty(), "ORDER BY"),
        (
            select.limit_count.is_some() || select.limit_offset.is_some(),
            "LIMIT/OFFSET",
        ),
        (!select.locking_clause.is_empty(), "FOR UPDATE/SHARE"),
        (select.into_clause.is_some(), "INTO"),
    ];
    match refused.iter().find(|(bad, _)| *bad) {
        Some((_, what)) => Err((
            0,
            format!("{what} cannot be kept in step by a row trigger; {SHAPE}"),
        )),
        None => Ok(()),
    }
}

/// The names PostgreSQL gives the output columns: the alias, or the column's own name.
fn output_names(select: &protobuf::SelectStmt) -> Result<Vec<String>, (usize, String)> {
    let mut names = Vec::new();
    for target in &select.target_list {
        let Some(NodeEnum::ResTarget(t)) = target.node.as_ref() else {
            continue;
        };
        let at = t.location.max(0) as usize;
        if !t.name.is_empty() {
            names.push(t.name.clone());
            continue;
        }
        let Some(NodeEnum::ColumnRef(c)) = t.val.as_ref().and_then(|v| v.node.as_ref()) else {
            return Err((
                at,
                "name this expression (`<expr> AS <column>`): each output column fills the new table's column of that name".into(),
            ));
        };
        match c.fields.last().and_then(|f| f.node.as_ref()) {
            Some(NodeEnum::String(s)) => names.push(s.sval.clone()),
            _ => {
                return Err((
                    at,
                    "list the columns instead of `*`: the copy and its trigger are written against named columns".into(),
                ))
            }
        }
    }
    if names.is_empty() {
        return Err((0, "the query selects no columns".into()));
    }
    Ok(names)
}

/// Every column name the query refers to (the last part of each column reference).
fn column_refs(parsed: &pg_query::ParseResult) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (node, ..) in parsed.protobuf.nodes() {
        if let NodeRef::ColumnRef(c) = node {
            if let Some(NodeEnum::String(s)) = c.fields.last().and_then(|f| f.node.as_ref()) {
                if !out.contains(&s.sval) {
                    out.push(s.sval.clone());
                }
            }
        }
    }
    out
}

/// The names (last part) of the functions the query calls.
fn function_names(parsed: &pg_query::ParseResult) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (node, ..) in parsed.protobuf.nodes() {
        if let NodeRef::FuncCall(f) = node {
            if let Some(NodeEnum::String(s)) = f.funcname.last().and_then(|n| n.node.as_ref()) {
                if !out.contains(&s.sval) {
                    out.push(s.sval.clone());
                }
            }
        }
    }
    out
}

/// The select list (between SELECT and FROM) and the condition (after WHERE), by the query's
/// own tokens at parenthesis depth 0.
fn split(query: &str) -> Result<(String, Option<String>), (usize, String)> {
    let tokens = pg_query::scan(query)
        .map_err(|e| (0, e.to_string()))?
        .tokens;
    let mut depth = 0i32;
    let (mut select_end, mut from_start, mut where_end) = (None, None, None);
    for t in &tokens {
        match t.token {
            x if x == Token::Ascii40 as i32 => depth += 1,
            x if x == Token::Ascii41 as i32 => depth -= 1,
            x if depth == 0 && x == Token::Select as i32 && select_end.is_none() => {
                select_end = Some(t.end as usize)
            }
            x if depth == 0 && x == Token::From as i32 && from_start.is_none() => {
                from_start = Some(t.start as usize)
            }
            x if depth == 0 && x == Token::Where as i32 && where_end.is_none() => {
                where_end = Some(t.end as usize)
            }
            _ => {}
        }
    }
    let (Some(select_end), Some(from_start)) = (select_end, from_start) else {
        return Err((0, SHAPE.to_string()));
    };
    let list = query[select_end..from_start].trim().to_string();
    let condition = where_end.map(|w| {
        query[w..]
            .trim()
            .trim_end_matches(';')
            .trim_end()
            .to_string()
    });
    Ok((list, condition))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_projection_with_a_condition() {
        let r = row_source(
            "SELECT u.id AS user_id, street, lower(city) AS city FROM users u WHERE street IS NOT NULL",
            "public",
        )
        .unwrap();
        assert_eq!(r.source, QualifiedName::new("public", "users"));
        assert_eq!(r.alias, "u");
        assert_eq!(
            r.select_list,
            "u.id AS user_id, street, lower(city) AS city"
        );
        assert_eq!(r.where_clause.as_deref(), Some("street IS NOT NULL"));
        assert_eq!(r.columns, ["user_id", "street", "city"]);
        assert_eq!(r.reads, ["id", "street", "city"]);
    }

    #[test]
    fn refuses_shapes_a_row_trigger_cannot_follow() {
        for (query, says) in [
            ("SELECT a.id FROM a JOIN b ON a.id = b.id", "joins"),
            ("SELECT id FROM a, b", "more than one table"),
            (
                "SELECT id FROM a WHERE id IN (SELECT id FROM b)",
                "subquery",
            ),
            ("SELECT DISTINCT id FROM a", "DISTINCT"),
            ("SELECT id, count(*) OVER () AS n FROM a", "window"),
            ("SELECT id + 1 FROM a", "name this expression"),
            ("SELECT * FROM a", "instead of `*`"),
        ] {
            let (_, message) = row_source(query, "public").unwrap_err();
            assert!(message.contains(says), "{query}: {message}");
        }
    }
}
