//! Table inheritance (`INHERITS`): which parents a child gains or loses, and which of a
//! child's columns its own diff compares. A column a child gets only from a parent
//! (`NOT attislocal`) is the parent's business while that parent stays: the parent's
//! `ADD` / `DROP COLUMN` reaches the child. It is the child's when the parent providing it is
//! new (the child must have it before `INHERIT`) or goes away (`NO INHERIT` leaves it as a
//! column of the child's own, which is then dropped if the child should not have it).

use std::collections::BTreeMap;

use super::Change;
use crate::model::{Column, Constraint, ConstraintKind, Model, Table};

/// `SetInherits` when the parents differ.
pub(super) fn diff_parents(old: &Table, new: &Table, changes: &mut Vec<Change>) {
    let add: Vec<_> = new
        .inherits
        .iter()
        .filter(|p| !old.inherits.contains(p))
        .cloned()
        .collect();
    let remove: Vec<_> = old
        .inherits
        .iter()
        .filter(|p| !new.inherits.contains(p))
        .cloned()
        .collect();
    if !add.is_empty() || !remove.is_empty() {
        changes.push(Change::SetInherits {
            table: new.name.clone(),
            add,
            remove,
        });
    }
}

/// The columns of `side` (a table as `model` has it) that the child's own diff pairs with
/// `other` (the same table on the other side): its own columns, and inherited ones whose
/// providing parents are not parents on the other side too, or that the other side declares
/// itself. (A partition's inherited columns are always its parent's.)
pub(super) fn pairable_columns<'a>(
    side: &'a Table,
    model: &Model,
    other: &Table,
) -> BTreeMap<String, &'a Column> {
    let provider_stays = |name: &str| {
        side.inherits.iter().any(|parent| {
            other.inherits.contains(parent)
                && model
                    .tables
                    .get(parent)
                    .is_some_and(|t| t.column(name).is_some())
        })
    };
    side.columns
        .iter()
        .filter(|c| {
            !c.inherited
                || other.column(&c.name).is_some_and(|o| !o.inherited)
                || (!side.inherits.is_empty() && !provider_stays(&c.name))
        })
        .map(|c| (c.name.clone(), c))
        .collect()
}

/// The constraints of `old` (live) and `new` (desired) that the child's own diff pairs: its
/// own (`conislocal`), and inherited CHECKs the child must hold itself before it can
/// `INHERIT` the parent that brings them (PostgreSQL then merges them: local and inherited).
/// A live constraint of its own that the desired child only inherits, with the same
/// definition, is that merged state: no change (no DDL makes a constraint inherited-only).
pub(super) fn pairable_constraints(
    old: &Table,
    new: &Table,
    to: &Model,
) -> (BTreeMap<String, Constraint>, BTreeMap<String, Constraint>) {
    // A CHECK that a parent the child gains brings (not one an existing parent gains: that
    // parent's own ADD CONSTRAINT reaches the child).
    let from_gained_parent = |name: &str| {
        new.inherits
            .iter()
            .filter(|p| !old.inherits.contains(p))
            .filter_map(|p| to.tables.get(p))
            .any(|p| p.constraints.contains_key(name))
    };
    let old_local: BTreeMap<String, Constraint> = old
        .constraints
        .iter()
        .filter(|(_, c)| !c.inherited)
        .map(|(k, c)| (k.clone(), c.clone()))
        .collect();
    let new_local = new
        .constraints
        .iter()
        .filter(|(name, c)| {
            !c.inherited
                || old_local
                    .get(*name)
                    .is_some_and(|o| o.definition == c.definition)
                || (c.kind == ConstraintKind::Check
                    && !old.constraints.contains_key(*name)
                    && from_gained_parent(name))
        })
        .map(|(k, c)| {
            let mut own = c.clone();
            own.inherited = false;
            (k.clone(), own)
        })
        .collect();
    (old_local, new_local)
}
