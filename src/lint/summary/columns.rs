//! Column and constraint definitions as the rules see them: types as written, what kind of
//! default a column has (volatile or not), and each constraint's kind and validation.

use pg_query::protobuf::{self, ConstrType};
use pg_query::NodeEnum;

use super::{
    node_of, string_names, ColumnSummary, ConstraintKind, ConstraintSummary, DefaultKind,
    TypeSummary,
};

pub(super) fn column(c: &protobuf::ColumnDef) -> ColumnSummary {
    let mut summary = ColumnSummary {
        name: c.colname.clone(),
        type_name: c.type_name.as_ref().map(type_summary),
        not_null: c.is_not_null,
        default: c
            .raw_default
            .as_deref()
            .and_then(|n| n.node.as_ref())
            .map(default_kind),
        generated_stored: !c.generated.is_empty(),
        identity: !c.identity.is_empty(),
        constraints: Vec::new(),
    };
    for node in c.constraints.iter().filter_map(node_of) {
        let NodeEnum::Constraint(k) = node else {
            continue;
        };
        match ConstrType::try_from(k.contype) {
            Ok(ConstrType::ConstrNotnull) => summary.not_null = true,
            Ok(ConstrType::ConstrDefault) => {
                summary.default = k
                    .raw_expr
                    .as_deref()
                    .and_then(|n| n.node.as_ref())
                    .map(default_kind)
            }
            Ok(ConstrType::ConstrGenerated) => summary.generated_stored = true,
            Ok(ConstrType::ConstrIdentity) => summary.identity = true,
            _ => {
                let mut constraint = constraint(k);
                if constraint.kind == ConstraintKind::PrimaryKey {
                    summary.not_null = true;
                }
                if constraint.kind != ConstraintKind::Other {
                    constraint.name = k.conname.clone();
                    summary.constraints.push(constraint);
                }
            }
        }
    }
    summary
}

pub(super) fn constraint(c: &protobuf::Constraint) -> ConstraintSummary {
    let kind = match ConstrType::try_from(c.contype) {
        Ok(ConstrType::ConstrCheck) => ConstraintKind::Check,
        Ok(ConstrType::ConstrForeign) => ConstraintKind::ForeignKey,
        Ok(ConstrType::ConstrUnique) => ConstraintKind::Unique,
        Ok(ConstrType::ConstrPrimary) => ConstraintKind::PrimaryKey,
        Ok(ConstrType::ConstrExclusion) => ConstraintKind::Exclude,
        _ => ConstraintKind::Other,
    };
    let proves_not_null = match c.raw_expr.as_deref().and_then(|n| n.node.as_ref()) {
        Some(NodeEnum::NullTest(t))
            if t.nulltesttype == protobuf::NullTestType::IsNotNull as i32 =>
        {
            match t.arg.as_deref().and_then(|n| n.node.as_ref()) {
                Some(NodeEnum::ColumnRef(r)) => string_names(&r.fields).last().cloned(),
                _ => None,
            }
        }
        _ => None,
    };
    ConstraintSummary {
        kind,
        name: c.conname.clone(),
        not_valid: c.skip_validation,
        using_index: !c.indexname.is_empty(),
        proves_not_null,
    }
}

pub(super) fn type_summary(t: &protobuf::TypeName) -> TypeSummary {
    use protobuf::a_const::Val;
    TypeSummary {
        name: string_names(&t.names).last().cloned().unwrap_or_default(),
        modifiers: t
            .typmods
            .iter()
            .filter_map(node_of)
            .filter_map(|n| match n {
                NodeEnum::AConst(c) => match &c.val {
                    Some(Val::Ival(i)) => Some(i64::from(i.ival)),
                    _ => None,
                },
                _ => None,
            })
            .collect(),
        array: !t.array_bounds.is_empty(),
    }
}

/// Functions PostgreSQL evaluates per row when they are a column's default. Anything else
/// called in a default is taken as evaluated once (stable or immutable), like `now()`;
/// `--db` asks pg_proc instead.
pub const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "setseed",
    "txid_current",
    "statement_timestamp",
];

fn default_kind(node: &NodeEnum) -> DefaultKind {
    let Ok(json) = serde_json::to_value(node) else {
        return DefaultKind::Volatile;
    };
    let mut names = Vec::new();
    collect_function_names(&json, &mut names);
    if names
        .iter()
        .any(|n| VOLATILE_FUNCTIONS.contains(&n.as_str()))
    {
        DefaultKind::Volatile
    } else {
        DefaultKind::Constant
    }
}

fn collect_function_names(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Array(items) => {
            items.iter().for_each(|i| collect_function_names(i, out))
        }
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Array(names)) = map.get("funcname") {
                if let Some(last) = names
                    .iter()
                    .filter_map(|n| n.pointer("/node/String/sval").and_then(|s| s.as_str()))
                    .next_back()
                {
                    out.push(last.to_ascii_lowercase());
                }
            }
            map.values().for_each(|i| collect_function_names(i, out));
        }
        _ => {}
    }
}

pub(super) fn collect_literals(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_literals(i, out)),
        serde_json::Value::Object(map) => {
            // pg_query's serde derive keeps the oneof variant's Rust name: `A_Const.val`
            // serialises as `{"Sval": {"sval": "..."}}`.
            let string_constant = map
                .get("Sval")
                .and_then(|s| s.get("sval"))
                .and_then(|s| s.as_str());
            if let Some(s) = string_constant {
                out.push(s.to_string());
            }
            map.values().for_each(|i| collect_literals(i, out));
        }
        _ => {}
    }
}
