//! DDL of aggregates: `CREATE [OR REPLACE] AGGREGATE name (arguments) (parameters)`.

use super::comment_on;
use crate::model::Aggregate;

fn statement(aggregate: &Aggregate, or_replace: bool) -> String {
    let arguments = match aggregate.arguments.as_str() {
        "" => "*",
        args => args,
    };
    let options: Vec<String> = aggregate
        .options
        .iter()
        .map(|(name, value)| match value {
            Some(value) => format!("{name} = {value}"),
            None => name.clone(),
        })
        .collect();
    format!(
        "CREATE {}AGGREGATE {}({arguments}) (\n    {}\n);",
        if or_replace { "OR REPLACE " } else { "" },
        aggregate.name,
        options.join(",\n    ")
    )
}

pub fn create(aggregate: &Aggregate) -> String {
    statement(aggregate, false)
}

/// `CREATE OR REPLACE AGGREGATE` (PostgreSQL 12+): same arguments, kind and result.
pub fn replace(aggregate: &Aggregate) -> String {
    statement(aggregate, true)
}

/// The object clause of `DROP` / `COMMENT ON`: the identity signature, which spells an
/// ordered-set aggregate's `ORDER BY` (the argument types alone do not).
fn target(aggregate: &Aggregate) -> String {
    let signature = match aggregate.signature.as_str() {
        "" => "*",
        s => s,
    };
    format!("AGGREGATE {}({signature})", aggregate.name)
}

pub fn drop(aggregate: &Aggregate) -> String {
    format!("DROP {};", target(aggregate))
}

pub fn comment(aggregate: &Aggregate) -> String {
    comment_on(&target(aggregate), aggregate.comment.as_deref())
}

pub fn comments(aggregate: &Aggregate) -> Vec<String> {
    aggregate
        .comment
        .iter()
        .map(|_| comment(aggregate))
        .collect()
}

pub fn definition(aggregate: &Aggregate) -> String {
    let mut lines = vec![create(aggregate)];
    lines.extend(comments(aggregate));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AggregateKind, Kind, ObjectId, QualifiedName};

    #[test]
    fn an_aggregate_with_options_and_a_flag() {
        let name = QualifiedName::new("public", "select");
        let aggregate = Aggregate {
            id: ObjectId::routine(Kind::Aggregate, &name, "double precision, anyelement"),
            name,
            kind: AggregateKind::Hypothetical,
            arguments: "double precision ORDER BY anyelement".into(),
            signature: "double precision ORDER BY anyelement".into(),
            result: "double precision".into(),
            options: vec![
                ("SFUNC".into(), Some("public.step".into())),
                ("STYPE".into(), Some("internal".into())),
                ("HYPOTHETICAL".into(), None),
            ],
            comment: Some("it's".into()),
        };
        assert_eq!(
            definition(&aggregate),
            "CREATE AGGREGATE public.\"select\"(double precision ORDER BY anyelement) (\n    \
             SFUNC = public.step,\n    STYPE = internal,\n    HYPOTHETICAL\n);\n\
             COMMENT ON AGGREGATE public.\"select\"(double precision ORDER BY anyelement) IS 'it''s';"
        );
    }
}
