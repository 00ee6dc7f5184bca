//! Views and materialized views: `CREATE OR REPLACE VIEW` when the columns stay (see
//! `diff::keyed`), indexes of materialized views `CONCURRENTLY`.

use crate::model::{QualifiedName, View};
use crate::plan::resource::Resource;
use crate::plan::{Context, LockMode, Op, Phase, Step, TableWork};
use crate::sql::ddl;

use super::helper_name;
use super::keyed::{describe, needs};
use crate::sql::ddl::indexes::index_sql;

/// Expand: the view keeps its columns (and may gain some at the end), so both application
/// versions keep reading it. It needs what the new definition reads, and runs before what
/// the old one read is dropped.
pub fn replace(ctx: &Context, from: &View, to: &View) -> Step {
    let added = to.columns[from.columns.len().min(to.columns.len())..]
        .iter()
        .map(|c| Resource::Column(to.name.clone(), c.name.clone()));
    Step::new(
        Phase::Expand,
        format!("replace {}", describe(&to.id)),
        ddl::views::replace(from, to),
    )
    .lock(LockMode::AccessExclusive, &to.name)
    .uses(needs(ctx.to, &to.id))
    .uses(needs(ctx.from, &to.id))
    .creates(added)
}

fn index_name(view: &QualifiedName, index: &str) -> QualifiedName {
    QualifiedName::new(view.schema.clone(), index.to_string())
}

/// Indexes of a live materialized view: new ones built concurrently in expand, changed ones
/// built concurrently under a temporary name then swapped, removed ones dropped concurrently
/// in contract.
pub fn alter_indexes(from: &View, to: &View) -> Vec<Step> {
    let mut steps = Vec::new();
    for index in to.indexes.values() {
        let name = index_name(&to.name, &index.name);
        match from.indexes.get(&index.name) {
            Some(old) if old.definition == index.definition => continue,
            Some(old) => {
                let temp = helper_name("new", &index.name);
                let temp_name = index_name(&to.name, &temp);
                steps.push(
                    build(to, &temp, &index.definition)
                        .creates([Resource::Relation(temp_name.clone())]),
                );
                steps.push(
                    Step::new(
                        Phase::Expand,
                        format!("drop the old index {name}"),
                        ddl::views::drop_index(&to.name, old, true),
                    )
                    .op(Op::DropIndexConcurrently {
                        index: name.clone(),
                    })
                    .outside_transaction()
                    .uses([Resource::Relation(temp_name.clone())])
                    .drops([Resource::Relation(name.clone())]),
                );
                steps.push(
                    Step::new(
                        Phase::Expand,
                        format!("rename the new index to {name}"),
                        ddl::indexes::rename(&temp_name, &index.name),
                    )
                    .uses([Resource::Relation(temp_name)])
                    .creates([Resource::Relation(name.clone())]),
                );
            }
            None => steps.push(
                build(to, &index.name, &index.definition)
                    .creates([Resource::Relation(name.clone())]),
            ),
        }
        if index.comment.is_some() {
            steps.push(
                Step::new(
                    Phase::Expand,
                    format!("comment on index {name}"),
                    ddl::views::index_comment(&to.name, index),
                )
                .uses([Resource::Relation(name)]),
            );
        }
    }
    for old in from.indexes.values() {
        if !to.indexes.contains_key(&old.name) {
            steps.push(
                Step::new(
                    Phase::Contract,
                    format!("drop index {}", index_name(&from.name, &old.name)),
                    ddl::views::drop_index(&from.name, old, true),
                )
                .op(Op::DropIndexConcurrently {
                    index: index_name(&from.name, &old.name),
                })
                .outside_transaction()
                .drops([Resource::Relation(index_name(&from.name, &old.name))]),
            );
        }
    }
    steps
}

fn build(view: &View, name: &str, definition: &str) -> Step {
    Step::new(
        Phase::Expand,
        format!("build index {} concurrently", index_name(&view.name, name)),
        index_sql(definition, name, true),
    )
    .op(Op::BuildIndexConcurrently {
        index: index_name(&view.name, name),
    })
    .lock(LockMode::ShareUpdateExclusive, &view.name)
    .work(TableWork::Scan)
    .outside_transaction()
    .uses([Resource::Relation(view.name.clone())])
}
