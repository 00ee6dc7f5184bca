//! Hints: passes over the planned steps, after the recipes, that add what a reviewer should
//! know but no recipe decides. Today: likely unannotated renames (a column or table dropped
//! while one of the same shape is added), appended to the data-loss hazard of the drop.
//! (Drops that live views or function bodies still read are flagged by the passes in
//! `plan/views.rs` and `plan/bodies.rs`.)

use crate::diff::Change;
use crate::model::{Column, QualifiedName, Table};
use crate::plan::{Context, HazardKind, Op, Step};
use crate::sql::quote_ident;

pub fn likely_renames(ctx: &Context, changes: &[Change], steps: &mut [Step]) {
    for change in changes {
        match change {
            Change::DropColumn { table, column } => column_renames(ctx, table, column, steps),
            Change::DropTable { table } | Change::RecreateTable { from: table, .. } => {
                table_renames(ctx, table, steps)
            }
            _ => {}
        }
    }
}

fn column_renames(ctx: &Context, table: &QualifiedName, column: &Column, steps: &mut [Step]) {
    let col = quote_ident(&column.name);
    // The data-loss hazard of the column's own drop step (`recipes::columns::drop`).
    let prefix = format!("column {table}.{col} is dropped: ");
    let Some(message) = data_loss_message(steps, |_| true, &prefix) else {
        return;
    };
    for renamed in likely_column_renames(ctx, table, column) {
        message.push_str(&format!(
            "; column {col} dropped and {} added: if this is a rename, annotate `-- zdm:renamed-from {}`",
            quote_ident(&renamed),
            column.name
        ));
    }
}

fn table_renames(ctx: &Context, table: &Table, steps: &mut [Step]) {
    let name = &table.name;
    let prefix = format!("table {name} is dropped: ");
    let drops_it = |s: &Step| matches!(&s.op, Op::DropTable { table } if table == name);
    let Some(message) = data_loss_message(steps, drops_it, &prefix) else {
        return;
    };
    for renamed in likely_table_renames(ctx, table) {
        message.push_str(&format!(
            "; table {name} dropped and {renamed} created: if this is a rename, annotate `-- zdm:renamed-from {}` on its CREATE TABLE",
            name.name
        ));
    }
}

/// The message of the first data-loss hazard starting with `prefix` on a step `which` picks.
fn data_loss_message<'a>(
    steps: &'a mut [Step],
    which: impl Fn(&Step) -> bool,
    prefix: &str,
) -> Option<&'a mut String> {
    steps
        .iter_mut()
        .filter(|s| which(s))
        .flat_map(|s| s.hazards.iter_mut())
        .find(|h| h.kind == HazardKind::DataLoss && h.message.starts_with(prefix))
        .map(|h| &mut h.message)
}

/// Likely unannotated renames: columns of the same type added to the table `column` is
/// dropped from.
pub fn likely_column_renames(ctx: &Context, table: &QualifiedName, column: &Column) -> Vec<String> {
    let (Some(live), Some(desired)) = (ctx.live_table(table), ctx.desired_table(table)) else {
        return Vec::new();
    };
    desired
        .columns
        .iter()
        .filter(|c| live.column(&c.name).is_none() && c.data_type == column.data_type)
        .map(|c| c.name.clone())
        .collect()
}

/// Likely unannotated table renames: new tables with the same columns as the dropped one.
pub fn likely_table_renames(ctx: &Context, table: &Table) -> Vec<QualifiedName> {
    let shape = |t: &Table| -> Vec<(String, String)> {
        t.columns
            .iter()
            .map(|c| (c.name.clone(), c.data_type.clone()))
            .collect()
    };
    ctx.to
        .tables
        .values()
        .filter(|t| !ctx.from.tables.contains_key(&t.name) && shape(t) == shape(table))
        .map(|t| t.name.clone())
        .collect()
}
