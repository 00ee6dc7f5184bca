//! Filling a column for the rows that exist (keyset batches on the primary key, run by
//! `apply::backfill`), and the plain companion column an online recipe adds beside a live one.

use crate::model::{Column, QualifiedName};
use crate::plan::resource::Resource;
use crate::plan::{Backfill, Context, HazardKind, LockMode, Phase, Step};
use crate::sql::{ddl, quote_ident};

/// `column` as a plain companion named `name`, added beside a live column while both
/// applications run (a rename's new column, a type change's shadow column): nullable, and
/// without default, identity, generation or comment, which the old application cannot honour.
pub fn companion(column: &Column, name: &str) -> Column {
    Column {
        name: name.to_string(),
        not_null: false,
        not_null_name: None,
        default: None,
        identity: None,
        identity_sequence: None,
        generated: None,
        virtual_generated: false,
        comment: None,
        ..column.clone()
    }
}

/// `UPDATE ... SET column = expression` for existing rows, in keyset batches on the primary
/// key; rows that already hold a value (written by the new application) are left alone.
pub fn backfill_step(ctx: &Context, table: &QualifiedName, column: &str, expression: &str) -> Step {
    let live = ctx.live_table(table);
    let key = live
        .map(crate::model::Table::primary_key_columns)
        .unwrap_or_default();
    let key_types: Vec<String> = key
        .iter()
        .map(|k| {
            live.and_then(|t| t.column(k))
                .map_or_else(|| "text".to_string(), |c| c.data_type.clone())
        })
        .collect();
    let col = quote_ident(column);
    let sql = ddl::columns::backfill_batch(table, column, expression, &key);
    let mut step = Step::new(
        Phase::Backfill,
        format!("fill {table}.{col} from {expression}"),
        sql,
    )
    .lock(LockMode::RowExclusive, table)
    .uses([Resource::Column(table.clone(), column.to_string())]);
    step.backfill = Some(Backfill {
        table: table.clone(),
        column: column.to_string(),
        expression: expression.to_string(),
        key: key.clone(),
        key_types,
        pending_only_where: None,
        rows: None,
    });
    if key.is_empty() {
        step = step.hazard(
            HazardKind::NotOnline,
            format!("{table} has no primary key to fill it in batches"),
        );
    }
    step
}
