//! Adding, dropping and altering columns.

use crate::diff::INHERITED_NOT_NULL_NAME;
use crate::model::{Column, ConstraintKind, QualifiedName};
use crate::plan::resource::{column_uses, type_uses, Resource};
use crate::plan::{Context, HazardKind, LockMode, Phase, PlanError, Step, TableWork};
use crate::sql::ddl::columns::clause;
use crate::sql::{ddl, quote_ident};

use crate::plan::online::backfill::backfill_step;
use crate::plan::online::not_null::not_null_recipe;
use crate::plan::online::sync;

/// Functions whose value differs per row: a default calling one rewrites the table when the
/// column is added. User-defined functions (schema-qualified calls) count as volatile too,
/// since their volatility is not known here.
const VOLATILE_FUNCTIONS: &[&str] = &[
    "nextval(",
    "random(",
    "random_normal(",
    "gen_random_uuid(",
    "uuid_generate_v1(",
    "uuid_generate_v1mc(",
    "uuid_generate_v4(",
    "clock_timestamp(",
    "timeofday(",
    "txid_current(",
    "pg_current_xact_id(",
];

pub fn is_volatile_default(default: &str) -> bool {
    VOLATILE_FUNCTIONS.iter().any(|f| default.contains(f)) || calls_user_function(default)
}

/// A schema-qualified call such as `public.make_id()` (catalog renderings qualify user
/// functions and leave `pg_catalog` ones bare).
fn calls_user_function(expression: &str) -> bool {
    let bytes = expression.as_bytes();
    let mut in_string = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' => in_string = !in_string,
            b'(' if !in_string && i > 0 => {
                let before = &expression[..i];
                let word_start = before
                    .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '"'))
                    .map_or(0, |p| p + 1);
                let word = &before[word_start..];
                if word.contains('.') && !word.starts_with("pg_catalog.") {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

fn column_resources(table: &QualifiedName, column: &Column) -> Vec<Resource> {
    let mut out = vec![Resource::Column(table.clone(), column.name.clone())];
    if column.not_null {
        out.push(Resource::NotNull(table.clone(), column.name.clone()));
    }
    out
}

pub fn add(ctx: &Context, table: &QualifiedName, column: &Column) -> Vec<Step> {
    let col = quote_ident(&column.name);
    let description = format!("add column {col} to {table}");
    let base = Step::new(
        Phase::Expand,
        description.clone(),
        ddl::columns::add(table, column),
    )
    .lock(LockMode::AccessExclusive, table)
    .uses(column_uses(ctx.to, table, column));

    if !ctx.has_rows(table) {
        return vec![base.creates(column_resources(table, column))];
    }
    // A virtual column (PostgreSQL 18) is computed when read: adding one writes nothing,
    // unless a NOT NULL has every row checked.
    let computed_for_every_row =
        column.generated.is_some() && (column.not_null || !column.virtual_generated);
    if computed_for_every_row || column.identity.is_some() {
        let what = if column.generated.is_some() {
            "a generated column"
        } else {
            "an identity column"
        };
        return vec![base
            .creates(column_resources(table, column))
            .work(TableWork::Rewrite)
            .hazard(
                HazardKind::TableRewrite,
                format!(
                    "adding {what} to {table} computes it for every row under ACCESS EXCLUSIVE"
                ),
            )];
    }

    let backfill_expression = ctx
        .backfill_for(table, &column.name)
        .map(str::to_string)
        .or_else(|| {
            column
                .default
                .as_ref()
                .filter(|d| is_volatile_default(d))
                .cloned()
        });
    let constant_default = column.default.is_some() && backfill_expression.is_none();
    if !column.not_null || constant_default {
        // Nullable, or NOT NULL with a constant default: metadata only since PostgreSQL 11.
        if backfill_expression.is_none() {
            return vec![base.creates(column_resources(table, column))];
        }
    }

    // Add it nullable and without a default; the default applies to new rows once set.
    let mut bare = column.clone();
    bare.not_null = false;
    bare.default = None;
    let mut steps = vec![Step::new(
        Phase::Expand,
        format!("add column {col} to {table} (nullable for now)"),
        ddl::columns::add(table, &bare),
    )
    .lock(LockMode::AccessExclusive, table)
    .uses(column_uses(ctx.to, table, &bare))
    .creates([Resource::Column(table.clone(), column.name.clone())])];
    if let Some(default) = &column.default {
        steps.push(
            Step::new(
                Phase::Expand,
                format!("set default of {table}.{col} for new rows"),
                ddl::columns::set_default(table, &column.name, default),
            )
            .lock(LockMode::AccessExclusive, table)
            .uses(column_uses(ctx.to, table, column)),
        );
    }
    if let Some(expression) = ctx.backfill_for(table, &column.name) {
        let sources = sync::columns_read(ctx.live_table(table), expression, &column.name);
        steps.push(sync::create_derived(
            table,
            &column.name,
            expression,
            &sources,
        ));
        steps.push(sync::drop_derived(table, &column.name, &sources));
    }
    if let Some(expression) = &backfill_expression {
        steps.push(backfill_step(ctx, table, &column.name, expression));
    }
    if column.not_null {
        let has_value = backfill_expression.is_some();
        steps.extend(not_null_recipe(ctx, table, &column.name, has_value, true));
    }
    steps
}

pub fn drop(ctx: &Context, table: &QualifiedName, column: &Column) -> Vec<Step> {
    let col = quote_ident(&column.name);
    let rows = if ctx.has_rows(table) {
        "its values are deleted"
    } else {
        "the table is empty now"
    };
    // A child that keeps the column as its own keeps its values too.
    let only = super::inheritance::keeps_column(ctx, table, &column.name);
    vec![Step::new(
        Phase::Contract,
        format!("drop column {col} from {table}"),
        ddl::columns::drop(table, &column.name, only),
    )
    .lock(LockMode::AccessExclusive, table)
    .uses(column_uses(ctx.from, table, column))
    .drops([
        Resource::Column(table.clone(), column.name.clone()),
        Resource::NotNull(table.clone(), column.name.clone()),
    ])
    // `plan::hints` adds the likely renames to this message.
    .hazard(
        HazardKind::DataLoss,
        format!("column {table}.{col} is dropped: {rows}"),
    )]
}

/// Type changes PostgreSQL makes without touching the rows (binary-coercible, no rewrite).
pub fn is_binary_coercible(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    let parse = |t: &str| -> (String, Vec<i64>) {
        match t.split_once('(') {
            Some((base, rest)) => (
                base.trim().to_string(),
                rest.trim_end_matches(')')
                    .split(',')
                    .filter_map(|n| n.trim().parse().ok())
                    .collect(),
            ),
            None => (t.trim().to_string(), Vec::new()),
        }
    };
    let (from_base, from_mods) = parse(from);
    let (to_base, to_mods) = parse(to);
    match (from_base.as_str(), to_base.as_str()) {
        ("character varying", "text") | ("text", "character varying") => to_mods.is_empty(),
        ("character varying", "character varying") => match (from_mods.first(), to_mods.first()) {
            (_, None) => true,
            (Some(a), Some(b)) => b >= a,
            (None, Some(_)) => false,
        },
        ("numeric", "numeric") => match (from_mods.as_slice(), to_mods.as_slice()) {
            (_, []) => true,
            ([p1, s1], [p2, s2]) => s1 == s2 && p2 >= p1,
            ([p1], [p2]) => p2 >= p1,
            _ => false,
        },
        ("bit varying", "bit varying") => match (from_mods.first(), to_mods.first()) {
            (_, None) => true,
            (Some(a), Some(b)) => b >= a,
            (None, Some(_)) => false,
        },
        ("cidr", "inet") => true,
        _ => false,
    }
}

pub fn alter(
    ctx: &Context,
    table: &QualifiedName,
    from: &Column,
    to: &Column,
) -> Result<Vec<Step>, PlanError> {
    let col = quote_ident(&to.name);
    let mut steps = Vec::new();
    let has_rows = ctx.has_rows(table);

    // Generated expressions: see `generated` (drop and re-add unless changed in place).
    match super::generated::alter(ctx, table, from, to) {
        Some(super::generated::Generated::Done(done)) => return Ok(done),
        Some(super::generated::Generated::More(more)) => steps.extend(more),
        None => {}
    }
    if let Some(rename) = crate::plan::online::not_null::rename(table, from, to) {
        steps.push(rename);
    }
    steps.extend(super::partition_relink::for_column(ctx, table, from, to));

    // Attribute changes that only touch the catalog, in one ALTER TABLE (one short lock).
    let mut clauses = Vec::new();
    let mut rewrite = false;
    let type_changes = from.data_type != to.data_type || from.collation != to.collation;
    let serial = super::identity::replaced_serial_sequence(ctx, table, from, to);
    if from.default.is_some() && (from.default != to.default || type_changes) && serial.is_none() {
        clauses.push(clause::drop_default(&to.name));
    }
    if from.identity.is_some() && to.identity.is_none() {
        clauses.push(clause::drop_identity(&to.name));
    }
    if from.not_null && !to.not_null {
        clauses.push(clause::drop_not_null(&to.name));
    }
    if type_changes {
        if is_binary_coercible(&from.data_type, &to.data_type) && from.collation == to.collation {
            clauses.push(clause::set_type(&to.name, &to.data_type, None, None));
        } else {
            let using = ctx
                .options
                .transforms
                .iter()
                .find_map(|t| match t {
                    crate::plan::Transform::UsingType {
                        table: t,
                        column,
                        expression,
                    } if t == table && column == &to.name => Some(expression.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| clause::default_using(&to.name, &from.data_type, &to.data_type));
            clauses.push(clause::set_type(
                &to.name,
                &to.data_type,
                to.collation.as_deref(),
                Some(&using),
            ));
            rewrite = from.data_type != to.data_type;
        }
    }
    if let Some(default) = &to.default {
        if from.default.as_ref() != Some(default) || type_changes {
            clauses.push(clause::set_default(&to.name, default));
        }
    }
    let (identity, after_identity) = super::identity::identity_clauses(has_rows, from, to);
    clauses.extend(identity);
    if !clauses.is_empty() || !after_identity.is_empty() {
        let mut sql = if clauses.is_empty() {
            after_identity.join("\n")
        } else {
            [ddl::columns::alter(table, &clauses)]
                .into_iter()
                .chain(after_identity)
                .collect::<Vec<_>>()
                .join("\n")
        };
        if let Some(sequence) = serial {
            sql = super::identity::carry_over_sql(table, &to.name, sequence, &sql);
        }
        let mut step = Step::new(
            Phase::Expand,
            format!(
                "alter column {col} of {table} ({})",
                crate::diff::column_differences(from, to)
                    .into_iter()
                    .filter(|d| {
                        !["set not null", "not null name", INHERITED_NOT_NULL_NAME].contains(d)
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            sql,
        )
        .lock(LockMode::AccessExclusive, table)
        .uses(column_uses(ctx.to, table, to))
        .uses(type_uses(ctx.to, &to.data_type));
        if type_changes {
            // PostgreSQL refuses to retype a column a view reads, even in place.
            step = step
                .repoints([Resource::Column(table.clone(), to.name.clone())])
                .after_drop_of(super::constraints::checks_leaving(ctx, table, &to.name));
        }
        if from.not_null && !to.not_null {
            // A column in a primary key cannot become nullable while the key exists.
            step = step.after_drop_of(primary_keys_on(ctx, table, &to.name));
        }
        if from.identity.is_none() && to.identity.is_some() && !from.not_null {
            // An identity column must be NOT NULL first (set by the recipe below).
            step = step.uses([Resource::NotNull(table.clone(), to.name.clone())]);
        }
        if let Some(sequence) = serial {
            step = step.drops([Resource::Relation(sequence.name.clone())]);
        }
        if rewrite && has_rows {
            step = step.work(TableWork::Rewrite).hazard(
                HazardKind::TableRewrite,
                format!(
                    "changing {table}.{col} from {} to {} rewrites the table under ACCESS EXCLUSIVE; annotate `-- zdm:using <expr>` for an online conversion",
                    from.data_type, to.data_type
                ),
            );
        }
        if let Some(message) = super::identity::conflict_hazard(has_rows, from, to) {
            step = step.hazard(HazardKind::MayFail, message);
        }
        steps.push(step);
    }

    if let Some(expression) = ctx.backfill_for(table, &to.name) {
        // An interrupted derived-column recipe: the column exists; finish filling it.
        if to.not_null && !from.not_null {
            steps.push(backfill_step(ctx, table, &to.name, expression));
        }
    }
    if to.not_null && !from.not_null {
        let has_value = ctx.backfill_for(table, &to.name).is_some();
        steps.extend(not_null_recipe(ctx, table, &to.name, has_value, false));
    }
    Ok(steps)
}

fn primary_keys_on(ctx: &Context, table: &QualifiedName, column: &str) -> Vec<Resource> {
    ctx.live_table(table)
        .into_iter()
        .flat_map(|t| t.constraints.values())
        .filter(|c| c.kind == ConstraintKind::PrimaryKey && c.columns.iter().any(|c| c == column))
        .map(|c| Resource::Constraint(table.clone(), c.name.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_coercible_type_changes() {
        assert!(is_binary_coercible(
            "character varying(10)",
            "character varying(20)"
        ));
        assert!(!is_binary_coercible(
            "character varying(20)",
            "character varying(10)"
        ));
        assert!(is_binary_coercible("character varying(20)", "text"));
        assert!(is_binary_coercible("numeric(10,2)", "numeric(12,2)"));
        assert!(!is_binary_coercible("numeric(10,2)", "numeric(12,3)"));
        assert!(!is_binary_coercible("integer", "bigint"));
    }

    #[test]
    fn volatile_defaults() {
        assert!(is_volatile_default("nextval('public.s'::regclass)"));
        assert!(is_volatile_default("gen_random_uuid()"));
        assert!(is_volatile_default("public.make_id()"));
        assert!(!is_volatile_default("now()"));
        assert!(!is_volatile_default("'a.b(c)'::text"));
        assert!(!is_volatile_default("(0)::numeric"));
    }
}
