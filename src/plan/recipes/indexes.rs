//! Building, dropping and rebuilding indexes: `CONCURRENTLY` on every live table.

use crate::diff::Change;
use crate::model::{Index, QualifiedName, Table, TableKind};
use crate::plan::resource::Resource;
use crate::plan::{Context, HazardKind, LockMode, Op, Phase, Step, TableWork};
use crate::sql::{ddl, quote_ident};

use crate::sql::ddl::indexes::index_sql;

use super::helper_name;

/// Whether `text` (a catalog rendering) mentions the column `name` as an identifier.
pub fn mentions(text: &str, name: &str) -> bool {
    let ident = quote_ident(name);
    let is_ident_char = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    text.match_indices(&ident).any(|(i, m)| {
        let before = text[..i].chars().next_back();
        let after = text[i + m.len()..].chars().next();
        !before.is_some_and(|c| is_ident_char(c) || c == '"' || c == '.')
            && !after.is_some_and(|c| is_ident_char(c) || c == '"')
    })
}

/// The columns of `table` an index reads, so it is built after they exist and dropped before
/// they go.
fn index_columns(table: Option<&Table>, name: &QualifiedName, index: &Index) -> Vec<Resource> {
    let mut out = vec![Resource::Relation(name.clone())];
    let Some(table) = table else { return out };
    let parts: Vec<&str> = index
        .key_expressions
        .iter()
        .chain(&index.include)
        .chain(&index.predicate)
        .map(String::as_str)
        .collect();
    for column in &table.columns {
        if parts.iter().any(|p| mentions(p, &column.name)) {
            out.push(Resource::Column(name.clone(), column.name.clone()));
        }
    }
    out
}

fn relation(table: &QualifiedName, index: &str) -> Resource {
    Resource::Relation(QualifiedName::new(table.schema.clone(), index.to_string()))
}

fn is_partitioned(table: Option<&Table>) -> bool {
    table.is_some_and(|t| t.kind == TableKind::Partitioned)
}

pub fn build_concurrently(table: &QualifiedName, name: &str, definition: &str) -> Step {
    Step::new(
        Phase::Expand,
        format!("build index {} on {table} concurrently", quote_ident(name)),
        index_sql(definition, name, true),
    )
    .op(Op::BuildIndexConcurrently {
        index: QualifiedName::new(table.schema.clone(), name.to_string()),
    })
    .lock(LockMode::ShareUpdateExclusive, table)
    .work(TableWork::Scan)
    .outside_transaction()
}

fn drop_concurrently(table: &QualifiedName, name: &str, phase: Phase) -> Step {
    let qualified = QualifiedName::new(table.schema.clone(), name.to_string());
    Step::new(
        phase,
        format!("drop index {qualified} concurrently"),
        ddl::indexes::drop(&qualified, true),
    )
    .op(Op::DropIndexConcurrently {
        index: qualified.clone(),
    })
    .lock(LockMode::ShareUpdateExclusive, table)
    .outside_transaction()
    .drops([relation(table, name)])
}

pub fn add(ctx: &Context, table: &QualifiedName, index: &Index) -> Vec<Step> {
    let live = ctx.live_table(table);
    let uses = index_columns(ctx.desired_table(table), table, index);
    let creates = [relation(table, &index.name)];
    if live.is_none() {
        // A table created by this plan is empty: a plain build locks nothing anyone uses.
        return vec![Step::new(
            Phase::Expand,
            format!(
                "create index {} on new table {table}",
                quote_ident(&index.name)
            ),
            index_sql(&index.definition, &index.name, false),
        )
        .lock(LockMode::Share, table)
        .uses(uses)
        .creates(creates)];
    }
    if is_partitioned(live) {
        if let Some(steps) = super::partitioned::add_index(ctx, table, index, uses.clone()) {
            return steps;
        }
        let mut step = Step::new(
            Phase::Expand,
            format!(
                "create index {} on partitioned table {table}",
                quote_ident(&index.name)
            ),
            index_sql(&index.definition, &index.name, false),
        )
        .lock(LockMode::Share, table)
        .work(TableWork::Scan)
        .uses(uses)
        .creates(creates);
        if ctx.has_rows(table) {
            step = step.hazard(
                HazardKind::LongLock,
                format!("CREATE INDEX CONCURRENTLY is not supported on partitioned tables: writes to {table} wait for the build"),
            );
        }
        return vec![step];
    }
    let mut step = build_concurrently(table, &index.name, &index.definition)
        .uses(uses)
        .creates(creates);
    if index.unique && ctx.has_rows(table) {
        step = step.hazard(
            HazardKind::MayFail,
            format!(
                "fails if {table} holds duplicate keys for {}",
                quote_ident(&index.name)
            ),
        );
    }
    vec![step]
}

pub fn drop(ctx: &Context, table: &QualifiedName, index: &Index) -> Vec<Step> {
    let uses = index_columns(ctx.live_table(table), table, index);
    if is_partitioned(ctx.live_table(table)) {
        let qualified = QualifiedName::new(table.schema.clone(), index.name.clone());
        return vec![Step::new(
            Phase::Contract,
            format!("drop index {qualified}"),
            ddl::indexes::drop(&qualified, false),
        )
        .lock(LockMode::AccessExclusive, table)
        .uses(uses)
        .drops([relation(table, &index.name)])
        // Its partitions' indexes go with it, and their names with them.
        .drops(index.partitions.iter().map(|p| {
            Resource::Relation(QualifiedName::new(p.table.schema.clone(), p.name.clone()))
        }))];
    }
    vec![drop_concurrently(table, &index.name, Phase::Contract).uses(uses)]
}

/// A changed index: the new one is built beside the old under a temporary name, and swapped
/// in during contract. An INVALID leftover of a failed build is dropped and built again.
pub fn replace(ctx: &Context, table: &QualifiedName, from: &Index, to: &Index) -> Vec<Step> {
    let live = ctx.live_table(table);
    if is_partitioned(live) {
        let mut steps = drop(ctx, table, from);
        for s in &mut steps {
            s.phase = Phase::Expand;
        }
        steps.extend(add(ctx, table, to));
        return steps;
    }
    let uses = index_columns(ctx.desired_table(table), table, to);
    if !from.valid && from.definition == to.definition {
        return vec![
            // Not `uses` the index it drops: the rebuild creates that name again, and a
            // step using what a later step creates would be ordered after it (a cycle).
            drop_concurrently(table, &from.name, Phase::Expand).uses(uses.clone()),
            build_concurrently(table, &to.name, &to.definition)
                .uses(uses)
                .creates([relation(table, &to.name)]),
        ];
    }
    let temporary = helper_name("new", &to.name);
    let mut steps = Vec::new();
    let existing = live.and_then(|t| t.indexes.get(&temporary));
    if !existing.is_some_and(|i| i.valid) {
        if existing.is_some() {
            steps.push(drop_concurrently(table, &temporary, Phase::Expand));
        }
        steps.push(
            build_concurrently(table, &temporary, &to.definition)
                .uses(uses.clone())
                .creates([relation(table, &temporary)]),
        );
    }
    steps.push(
        drop_concurrently(table, &from.name, Phase::Contract).uses([relation(table, &temporary)]),
    );
    steps.push(
        Step::new(
            Phase::Contract,
            format!(
                "rename index {} to {}",
                quote_ident(&temporary),
                quote_ident(&to.name)
            ),
            ddl::indexes::rename(
                &QualifiedName::new(table.schema.clone(), temporary.clone()),
                &to.name,
            ),
        )
        .lock(LockMode::ShareUpdateExclusive, table)
        .uses([relation(table, &temporary)])
        .creates([relation(table, &to.name)]),
    );
    steps
}

/// The temporary index of a rebuild that is still pending: the rebuild recipe owns it.
pub fn is_pending_rebuild(changes: &[Change], table: &QualifiedName, index: &str) -> bool {
    changes.iter().any(|c| match c {
        Change::ReplaceIndex { table: t, to, .. } => {
            t == table && helper_name("new", &to.name) == index
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_column_mentions() {
        assert!(mentions("lower(email)", "email"));
        assert!(!mentions("lower(email_2)", "email"));
        assert!(mentions("\"Email\" DESC", "Email"));
        assert!(!mentions("t.email", "email"));
    }
}
