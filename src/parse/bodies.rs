//! What a routine's body names that PostgreSQL does not record.
//!
//! PostgreSQL tracks the dependencies of views and of SQL-standard bodies (`BEGIN ATOMIC`),
//! but a PL/pgSQL body and a SQL body written as a string are kept as text: dropping a table
//! or column they name succeeds, and the routine fails only when it next runs that statement.
//! This reads the tables and columns such a body names, from the statements and expressions
//! PL/pgSQL's own parser finds in it (each parsed again as SQL).

use std::collections::BTreeSet;

use serde_json::Value;

/// The tables (as written: `name` or `schema.name`) and column names a body mentions.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BodyNames {
    pub tables: BTreeSet<String>,
    pub columns: BTreeSet<String>,
}

impl BodyNames {
    /// Whether the body may read `schema.table`: named qualified, or unqualified (which name
    /// resolves where depends on the `search_path` when it runs, so either counts).
    pub fn names_table(&self, schema: &str, table: &str) -> bool {
        self.tables.contains(table) || self.tables.contains(&format!("{schema}.{table}"))
    }
}

/// The names in the body of `definition` (a `CREATE FUNCTION` / `CREATE PROCEDURE` statement,
/// as `pg_get_functiondef` prints it), or `None` when PostgreSQL tracks the body itself (a
/// SQL-standard body), the language is neither PL/pgSQL nor SQL, or it does not parse.
pub fn body_names(definition: &str) -> Option<BodyNames> {
    let tree = pg_query::parse(definition, 0).ok()?;
    let statement = tree.protobuf.stmts.first()?.stmt.as_ref()?.node.as_ref()?;
    let pg_query::NodeEnum::CreateFunctionStmt(create) = statement else {
        return None;
    };
    if create.sql_body.is_some() {
        return None;
    }
    let option = |name: &str| {
        create.options.iter().find_map(|o| match o.node.as_ref()? {
            pg_query::NodeEnum::DefElem(d) if d.defname == name => d.arg.clone(),
            _ => None,
        })
    };
    let language = option("language").and_then(|arg| match arg.node? {
        pg_query::NodeEnum::String(s) => Some(s.sval.to_lowercase()),
        _ => None,
    })?;
    let mut names = BodyNames::default();
    match language.as_str() {
        "plpgsql" => {
            let functions = pg_query::parse_plpgsql(definition).ok()?;
            let mut texts = Vec::new();
            collect_queries(&functions, &mut texts);
            for text in texts {
                add_sql(&text, &mut names);
            }
        }
        "sql" => {
            let body = option("as").and_then(|arg| match arg.node? {
                pg_query::NodeEnum::List(list) => list.items.first().and_then(|i| match &i.node {
                    Some(pg_query::NodeEnum::String(s)) => Some(s.sval.clone()),
                    _ => None,
                }),
                _ => None,
            })?;
            add_sql(&body, &mut names);
        }
        _ => return None,
    }
    Some(names)
}

/// Every `"query"` text of PL/pgSQL's parse (statements and expressions alike).
fn collect_queries(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("query", Value::String(text)) => out.push(text.clone()),
                    _ => collect_queries(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_queries(i, out)),
        _ => {}
    }
}

/// The tables and columns of `text`: a statement, or an expression (`x > 0`), which parses
/// as the target of a `SELECT`.
fn add_sql(text: &str, names: &mut BodyNames) {
    let parsed =
        pg_query::parse(text, 0).or_else(|_| pg_query::parse(&format!("SELECT {text}"), 0));
    let Ok(parsed) = parsed else {
        return;
    };
    names.tables.extend(parsed.tables());
    if let Ok(tree) = serde_json::to_value(&parsed.protobuf) {
        collect_columns(&tree, &mut names.columns);
    }
}

/// The last name of every `ColumnRef` (`t.amount` and `amount` both give `amount`), and the
/// columns an `UPDATE` sets or an `INSERT` fills.
fn collect_columns(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(fields)) = map.get("ColumnRef").and_then(|c| c.get("fields")) {
                if let Some(name) = fields.iter().rev().find_map(string_value) {
                    out.insert(name);
                }
            }
            // Columns an UPDATE sets or an INSERT lists are targets, not column references.
            let targets = [("UpdateStmt", "target_list"), ("InsertStmt", "cols")];
            for (statement, list) in targets {
                if let Some(Value::Array(items)) = map.get(statement).and_then(|s| s.get(list)) {
                    out.extend(items.iter().filter_map(|i| {
                        let name = i.get("node")?.get("ResTarget")?.get("name")?;
                        name.as_str().map(str::to_string)
                    }));
                }
            }
            map.values().for_each(|v| collect_columns(v, out));
        }
        Value::Array(items) => items.iter().for_each(|i| collect_columns(i, out)),
        _ => {}
    }
}

/// The text of a `String` node in pg_query's serde form (`{"node": {"String": {"sval": ..}}}`).
fn string_value(node: &Value) -> Option<String> {
    let string = node.get("node")?.get("String")?;
    string.get("sval")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plpgsql_body_names_its_tables_and_columns() {
        let names = body_names(
            "CREATE OR REPLACE FUNCTION public.total(c integer) RETURNS bigint LANGUAGE plpgsql AS $$
             DECLARE s bigint;
             BEGIN
               SELECT sum(o.amount) INTO s FROM shop.orders o WHERE o.customer_id = c;
               IF s > (SELECT max(limit_cents) FROM limits) THEN
                 UPDATE customers SET flagged = true WHERE id = c;
               END IF;
               RETURN s;
             END $$",
        )
        .expect("PL/pgSQL is read");
        assert!(names.names_table("shop", "orders"));
        assert!(names.names_table("public", "limits"));
        assert!(names.names_table("public", "customers"));
        assert!(!names.names_table("public", "orders"));
        for column in ["amount", "customer_id", "limit_cents", "flagged"] {
            assert!(names.columns.contains(column), "{column}: {names:?}");
        }
    }

    #[test]
    fn a_sql_string_body_is_read_and_a_standard_body_is_left_to_postgresql() {
        let names = body_names(
            "CREATE FUNCTION public.n() RETURNS bigint LANGUAGE sql AS $$ SELECT count(note) FROM public.t $$",
        )
        .expect("a string body is read");
        assert!(names.names_table("public", "t"));
        assert!(names.columns.contains("note"));
        assert_eq!(
            body_names("CREATE FUNCTION public.n() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM public.t; END"),
            None
        );
        assert_eq!(
            body_names("CREATE FUNCTION public.c() RETURNS int LANGUAGE c AS 'lib', 'sym'"),
            None
        );
    }
}
