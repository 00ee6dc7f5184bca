//! A materialized view whose definition changes, rebuilt online.
//!
//! Dropping and creating it in one transaction would hold ACCESS EXCLUSIVE on it for as long
//! as its query runs, so every reader waits. Instead:
//! 1. expand: the new one is created and populated under a temporary name, with its indexes,
//!    grants and owner. No one reads it yet, so its indexes need no `CONCURRENTLY`, and the
//!    old one keeps serving reads while the query runs;
//! 2. expand: one short transaction renames the old one (and its indexes) aside and the new
//!    one (and its indexes) to the real names;
//! 3. contract: the old one, renamed aside, is dropped.
//!
//! Only for a materialized view that nothing else depends on: a view over it would follow the
//! old one through the rename (PostgreSQL records dependencies by oid), so those keep the
//! drop and create of [`super::cascade`].

use crate::diff::keyed::dependents_of;
use crate::model::{Kind, ObjectId, QualifiedName, View};
use crate::plan::resource::Resource;
use crate::plan::{Context, LockMode, Phase, Step, TableWork};
use crate::sql::ddl;

use super::helper_name;
use super::keyed::{describe, needs, resources};
use crate::sql::ddl::indexes::index_sql;

/// Whether `from` -> `to` can be rebuilt online: both materialized, nothing depends on the
/// live one, and every index definition names the view where it can be re-pointed.
pub fn applies(ctx: &Context, from: &View, to: &View) -> bool {
    from.materialized()
        && to.materialized()
        && dependents_of(&ctx.from.depends, &from.id).is_empty()
        && to
            .indexes
            .values()
            .all(|i| retarget(&i.definition, &to.name, &to.name).is_some())
}

/// The three steps; the first two in expand, the drop of the old one in contract.
pub fn steps(ctx: &Context, from: &View, to: &View) -> Vec<Step> {
    let new_name = copy_name(&to.name);
    let old_name = sibling(&from.name, "old");
    vec![
        build(ctx, from, to, &new_name),
        swap(from, to, &new_name, &old_name),
        Step::new(
            Phase::Contract,
            format!("drop the old {}, renamed {old_name}", describe(&from.id)),
            ddl::views::drop_materialized(&old_name, false),
        )
        .lock(LockMode::AccessExclusive, &old_name)
        // Before a column the old query reads is dropped.
        .uses(needs(ctx.from, &from.id))
        .drops([Resource::Relation(old_name)]),
    ]
}

/// The name the new one is built under.
pub fn copy_name(name: &QualifiedName) -> QualifiedName {
    sibling(name, "new")
}

fn sibling(name: &QualifiedName, role: &str) -> QualifiedName {
    QualifiedName::new(name.schema.clone(), helper_name(role, &name.name))
}

/// Create and populate `to` as `new_name`, with its indexes, grants and the live owner.
fn build(ctx: &Context, from: &View, to: &View, new_name: &QualifiedName) -> Step {
    let mut copy = to.clone();
    copy.name = new_name.clone();
    // A run interrupted before the swap left its copy behind; no one reads it.
    let mut sql = vec![
        ddl::views::drop_materialized(new_name, true),
        ddl::views::create(&copy),
    ];
    for index in to.indexes.values() {
        let temp = helper_name("new", &index.name);
        let definition =
            retarget(&index.definition, &to.name, new_name).expect("checked by `applies`");
        sql.push(index_sql(&definition, &temp, false));
    }
    let copy_id = ObjectId::new(Kind::MaterializedView, &new_name.schema, &new_name.name);
    if let Some(owner) = ctx.from.owners.get(&from.id.sql()) {
        sql.push(ddl::privileges::owner(&copy_id, owner));
    }
    sql.extend(super::grants::statements_for_copy(ctx, &to.id, &copy_id));
    let mut uses = needs(ctx.to, &to.id);
    uses.retain(|r| r != &Resource::of(&to.id));
    Step::new(
        Phase::Expand,
        format!(
            "build the new {} as {new_name} (readers keep the old one)",
            describe(&to.id)
        ),
        sql.join("\n"),
    )
    .lock(LockMode::AccessShare, format!("what {} reads", to.name))
    .work(TableWork::Scan)
    .uses(uses)
    .creates([Resource::Relation(new_name.clone())])
}

/// One short transaction: the old one and its indexes aside, the new one and its indexes to
/// the real names, then the comments (which stay with the renamed old one otherwise).
fn swap(from: &View, to: &View, new_name: &QualifiedName, old_name: &QualifiedName) -> Step {
    let schema = &to.name.schema;
    let mut sql = vec![ddl::views::rename_materialized(&from.name, &old_name.name)];
    for index in from.indexes.values() {
        sql.push(rename_index(
            schema,
            &index.name,
            &helper_name("old", &index.name),
        ));
    }
    sql.push(ddl::views::rename_materialized(new_name, &to.name.name));
    for index in to.indexes.values() {
        sql.push(rename_index(
            schema,
            &helper_name("new", &index.name),
            &index.name,
        ));
    }
    sql.extend(ddl::views::comments(to));
    Step::new(
        Phase::Expand,
        format!("swap in the new {}", describe(&to.id)),
        sql.join("\n"),
    )
    .lock(LockMode::AccessExclusive, &to.name)
    .uses([Resource::Relation(new_name.clone())])
    .creates(resources(&crate::model::Object::View(to.clone())))
}

fn rename_index(schema: &str, from: &str, to: &str) -> String {
    ddl::indexes::rename(&QualifiedName::new(schema, from), to)
}

/// `pg_get_indexdef` text with its relation `view` replaced by `target`, or `None` when the
/// text does not name it the way PostgreSQL prints it (`ON schema.name USING`).
fn retarget(definition: &str, view: &QualifiedName, target: &QualifiedName) -> Option<String> {
    let on = format!(" ON {view} USING ");
    definition
        .contains(&on)
        .then(|| definition.replacen(&on, &format!(" ON {target} USING "), 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_definition_is_pointed_at_the_copy() {
        let view = QualifiedName::new("public", "m");
        let copy = QualifiedName::new("public", "zdm_new_m");
        assert_eq!(
            retarget(
                "CREATE UNIQUE INDEX m_id ON public.m USING btree (id)",
                &view,
                &copy
            )
            .as_deref(),
            Some("CREATE UNIQUE INDEX m_id ON public.zdm_new_m USING btree (id)")
        );
        assert_eq!(
            retarget(
                "CREATE INDEX m_id ON other.m USING btree (id)",
                &view,
                &copy
            ),
            None
        );
    }
}
