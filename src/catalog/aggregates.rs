//! Aggregates (`prokind = 'a'`) with their `pg_aggregate` parameters, each kept only where it
//! differs from what `CREATE AGGREGATE` assumes when it is left out.

use std::collections::BTreeMap;

use tokio_postgres::Row;

use super::Reader;

use super::filter::{not_extension_member, USER_SCHEMA};
use super::{named, CatalogError};
use crate::model::{Aggregate, AggregateKind, Kind, ObjectId, QualifiedName};
use crate::sql::quote_literal;

const WHAT: &str = "aggregates";

/// `regproc` renders a function qualified unless it is in `pg_catalog` (the `search_path` is
/// empty while reading); 0 (none) becomes NULL.
fn function(column: &str) -> String {
    format!(
        "CASE WHEN a.{column}::oid <> 0 THEN a.{column}::pg_catalog.regproc::text END AS {column}"
    )
}

fn query() -> String {
    format!(
        "SELECT n.nspname::text AS schema, p.proname::text AS name,
                pg_catalog.oidvectortypes(p.proargtypes) AS identity,
                pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
                pg_catalog.pg_get_function_identity_arguments(p.oid) AS signature,
                pg_catalog.format_type(p.prorettype, NULL) AS result,
                a.aggkind::text AS kind,
                {}, pg_catalog.format_type(a.aggtranstype, NULL) AS stype,
                a.aggtransspace AS sspace, {}, a.aggfinalextra AS finalextra,
                a.aggfinalmodify::text AS finalmodify, {}, {}, {},
                a.agginitval AS initcond, {}, {},
                CASE WHEN a.aggmtranstype <> 0
                     THEN pg_catalog.format_type(a.aggmtranstype, NULL) END AS mstype,
                a.aggmtransspace AS msspace, {}, a.aggmfinalextra AS mfinalextra,
                a.aggmfinalmodify::text AS mfinalmodify, a.aggminitval AS minitcond,
                CASE WHEN a.aggsortop <> 0
                     THEN 'OPERATOR(' || pg_catalog.quote_ident(opn.nspname) || '.'
                          || op.oprname || ')' END AS sortop,
                p.proparallel::text AS parallel,
                pg_catalog.obj_description(p.oid, 'pg_proc') AS comment
         FROM pg_catalog.pg_proc p
         JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
         JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
         LEFT JOIN pg_catalog.pg_operator op ON op.oid = a.aggsortop
         LEFT JOIN pg_catalog.pg_namespace opn ON opn.oid = op.oprnamespace
         WHERE p.prokind = 'a' AND {USER_SCHEMA} AND {}",
        function("aggtransfn"),
        function("aggfinalfn"),
        function("aggcombinefn"),
        function("aggserialfn"),
        function("aggdeserialfn"),
        function("aggmtransfn"),
        function("aggminvtransfn"),
        function("aggmfinalfn"),
        not_extension_member("pg_proc", "p.oid"),
    )
}

pub(crate) async fn aggregates(
    client: &Reader<'_>,
) -> Result<BTreeMap<String, Aggregate>, CatalogError> {
    let mut out = BTreeMap::new();
    for row in client.query(WHAT, &query()).await? {
        let name = QualifiedName::new(
            named::<String>(&row, "schema", WHAT)?,
            named::<String>(&row, "name", WHAT)?,
        );
        let id = ObjectId::routine(
            Kind::Aggregate,
            &name,
            named::<String>(&row, "identity", WHAT)?,
        );
        let kind = match named::<String>(&row, "kind", WHAT)?.as_str() {
            "o" => AggregateKind::OrderedSet,
            "h" => AggregateKind::Hypothetical,
            _ => AggregateKind::Normal,
        };
        out.insert(
            id.to_string(),
            Aggregate {
                id,
                name,
                kind,
                arguments: named(&row, "arguments", WHAT)?,
                signature: named(&row, "signature", WHAT)?,
                result: named(&row, "result", WHAT)?,
                options: options(&row, kind)?,
                comment: named(&row, "comment", WHAT)?,
            },
        );
    }
    Ok(out)
}

/// `FINALFUNC_MODIFY` words; the default is `READ_ONLY`, `READ_WRITE` for ordered-set ones.
fn modify(code: &str, kind: AggregateKind) -> Option<String> {
    let default = match kind {
        AggregateKind::Normal => "r",
        _ => "w",
    };
    if code == default {
        return None;
    }
    Some(
        match code {
            "r" => "READ_ONLY",
            "s" => "SHAREABLE",
            _ => "READ_WRITE",
        }
        .to_string(),
    )
}

/// The parameters of a `CREATE AGGREGATE` that rebuilds this row's aggregate.
fn options(row: &Row, kind: AggregateKind) -> Result<Vec<(String, Option<String>)>, CatalogError> {
    let text = |column: &str| named::<Option<String>>(row, column, WHAT);
    let flag = |column: &str| named::<bool>(row, column, WHAT);
    let space =
        |column: &str| named::<i32>(row, column, WHAT).map(|n| (n != 0).then(|| n.to_string()));
    let mut out: Vec<(&str, Option<String>, bool)> = vec![
        ("SFUNC", text("aggtransfn")?, true),
        ("STYPE", text("stype")?, true),
        ("SSPACE", space("sspace")?, true),
    ];
    let finalfunc = text("aggfinalfn")?;
    let has_final = finalfunc.is_some();
    out.push(("FINALFUNC", finalfunc, true));
    out.push(("FINALFUNC_EXTRA", None, has_final && flag("finalextra")?));
    let finalmodify = modify(&named::<String>(row, "finalmodify", WHAT)?, kind);
    out.push(("FINALFUNC_MODIFY", finalmodify.filter(|_| has_final), true));
    out.push(("COMBINEFUNC", text("aggcombinefn")?, true));
    out.push(("SERIALFUNC", text("aggserialfn")?, true));
    out.push(("DESERIALFUNC", text("aggdeserialfn")?, true));
    out.push((
        "INITCOND",
        text("initcond")?.map(|v| quote_literal(&v)),
        true,
    ));
    let msfunc = text("aggmtransfn")?;
    let moving = msfunc.is_some();
    out.push(("MSFUNC", msfunc, true));
    out.push(("MINVFUNC", text("aggminvtransfn")?, true));
    out.push(("MSTYPE", text("mstype")?, true));
    out.push(("MSSPACE", space("msspace")?, true));
    let mfinalfunc = text("aggmfinalfn")?;
    let has_mfinal = mfinalfunc.is_some();
    out.push(("MFINALFUNC", mfinalfunc, true));
    out.push(("MFINALFUNC_EXTRA", None, has_mfinal && flag("mfinalextra")?));
    let mfinalmodify = modify(&named::<String>(row, "mfinalmodify", WHAT)?, kind);
    out.push((
        "MFINALFUNC_MODIFY",
        mfinalmodify.filter(|_| has_mfinal && moving),
        true,
    ));
    out.push((
        "MINITCOND",
        text("minitcond")?.map(|v| quote_literal(&v)),
        true,
    ));
    out.push(("SORTOP", text("sortop")?, true));
    let parallel = match named::<String>(row, "parallel", WHAT)?.as_str() {
        "s" => Some("SAFE".to_string()),
        "r" => Some("RESTRICTED".to_string()),
        _ => None,
    };
    out.push(("PARALLEL", parallel, true));
    out.push(("HYPOTHETICAL", None, kind == AggregateKind::Hypothetical));
    Ok(out
        .into_iter()
        .filter_map(|(name, value, keep)| {
            // A flag (no value) is kept when set; a parameter when it has a value.
            let flag = matches!(
                name,
                "FINALFUNC_EXTRA" | "MFINALFUNC_EXTRA" | "HYPOTHETICAL"
            );
            match (flag, keep, value) {
                (true, true, _) => Some((name.to_string(), None)),
                (false, true, Some(v)) => Some((name.to_string(), Some(v))),
                _ => None,
            }
        })
        .collect())
}
