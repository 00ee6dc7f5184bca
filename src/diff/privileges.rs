//! Grants, default privileges and owners: ACLs compared as sets of items (see
//! `model::privilege`), so a change is the items to grant and the items to revoke, never a
//! rewrite of the whole ACL.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use super::Change;
use crate::model::{DefaultAclObjects, Grantee, Kind, Model, ObjectId, Privilege};

/// What a privilege change applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum PrivilegeTarget {
    Object {
        id: ObjectId,
        /// The owner's name, for [`Grantee::Owner`] items: the live owner, or the one the
        /// files give a new object; `None` when the object is new and the files give none
        /// (it will belong to the role that applies the plan).
        owner: Option<String>,
    },
    Default {
        role: Option<String>,
        schema: Option<String>,
        objects: DefaultAclObjects,
    },
}

/// One statement's worth of a privilege change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivilegeAction {
    Grant,
    GrantWithGrantOption,
    /// `REVOKE GRANT OPTION FOR`: the privilege stays, passing it on does not.
    RevokeGrantOption,
    Revoke,
}

impl PrivilegeAction {
    /// Whether it takes something away that the running application may use.
    pub fn takes_away(self) -> bool {
        matches!(
            self,
            PrivilegeAction::Revoke | PrivilegeAction::RevokeGrantOption
        )
    }
}

/// The statements that turn `from` into `to`, grouped per grantee and action: one
/// `GRANT`/`REVOKE` per grantee lists every privilege it gains or loses.
pub fn actions(
    from: &BTreeSet<Privilege>,
    to: &BTreeSet<Privilege>,
) -> Vec<(Grantee, PrivilegeAction, Vec<String>)> {
    let state = |set: &BTreeSet<Privilege>| -> BTreeMap<(Grantee, String), bool> {
        set.iter()
            .map(|p| ((p.grantee.clone(), p.privilege.clone()), p.grantable))
            .collect()
    };
    let (old, new) = (state(from), state(to));
    let mut grouped: BTreeMap<(Grantee, PrivilegeAction), Vec<String>> = BTreeMap::new();
    let keys: BTreeSet<&(Grantee, String)> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let action = match (old.get(key), new.get(key)) {
            (None, Some(false)) => PrivilegeAction::Grant,
            (None | Some(false), Some(true)) => PrivilegeAction::GrantWithGrantOption,
            (Some(true), Some(false)) => PrivilegeAction::RevokeGrantOption,
            (Some(_), None) => PrivilegeAction::Revoke,
            _ => continue,
        };
        grouped
            .entry((key.0.clone(), action))
            .or_default()
            .push(key.1.clone());
    }
    grouped
        .into_iter()
        .map(|((grantee, action), privileges)| (grantee, action, privileges))
        .collect()
}

pub fn diff_privileges(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    object_privileges(from, to, &|_| false, changes);
    default_privileges(from, to, changes);
    owners(from, to, changes);
}

/// Grants and revokes on objects. `recreated` says which objects a plan drops and creates
/// again (they start over from the defaults); the diff alone knows of none.
pub fn object_privileges(
    from: &Model,
    to: &Model,
    recreated: &dyn Fn(&ObjectId) -> bool,
    changes: &mut Vec<Change>,
) {
    let no_privileges = BTreeSet::new();
    for (key, desired) in &to.acls {
        let id = &desired.target;
        let live = from.acls.get(key);
        let start = match live {
            _ if recreated(id) => new_object_privileges(to, desired),
            Some(live) => live.privileges.clone(),
            // A column without an ACL of its own has no row on either side.
            None if id.kind == Kind::Column => no_privileges.clone(),
            None => new_object_privileges(to, desired),
        };
        push(from, to, id, &start, &desired.privileges, changes);
    }
    // A column whose ACL goes back to none: its key is gone from the desired side.
    for (key, live) in &from.acls {
        let id = &live.target;
        if id.kind == Kind::Column && !to.acls.contains_key(key) && has_column(to, id) {
            let start = if recreated(id) {
                &no_privileges
            } else {
                &live.privileges
            };
            push(from, to, id, start, &no_privileges, changes);
        }
    }
}

/// What an object the plan creates holds right after its `CREATE`: `acldefault`, or what the
/// desired default privileges of the creating role say instead (the plan changes those
/// before it creates anything). The entry for every schema replaces `acldefault`; an
/// `IN SCHEMA` entry adds to it. Entries `FOR ROLE` another role do not apply to zdm's own
/// `CREATE`s.
pub fn new_object_privileges(to: &Model, acl: &crate::model::Acl) -> BTreeSet<Privilege> {
    let id = &acl.target;
    let objects = match id.kind {
        Kind::Table | Kind::View | Kind::MaterializedView => DefaultAclObjects::Tables,
        Kind::Sequence => DefaultAclObjects::Sequences,
        Kind::Function | Kind::Procedure | Kind::Aggregate => DefaultAclObjects::Functions,
        Kind::Type => DefaultAclObjects::Types,
        Kind::Schema => DefaultAclObjects::Schemas,
        _ => return acl.defaults.clone(),
    };
    let entries: Vec<&crate::model::DefaultAcl> = to
        .default_privileges
        .values()
        .filter(|d| d.role.is_none() && d.objects == objects)
        .collect();
    let mut start = entries
        .iter()
        .find(|d| d.schema.is_none())
        .map_or_else(|| acl.defaults.clone(), |d| d.privileges.clone());
    if objects != DefaultAclObjects::Schemas {
        for entry in entries
            .iter()
            .filter(|d| d.schema.as_deref() == Some(&id.schema))
        {
            start.extend(entry.privileges.iter().cloned());
        }
    }
    start
}

fn push(
    from: &Model,
    to: &Model,
    id: &ObjectId,
    start: &BTreeSet<Privilege>,
    end: &BTreeSet<Privilege>,
    changes: &mut Vec<Change>,
) {
    let actions = actions(start, end);
    if actions.is_empty() {
        return;
    }
    changes.push(Change::SetPrivileges {
        target: PrivilegeTarget::Object {
            id: id.clone(),
            owner: owner_of(from, id).or_else(|| owner_of(to, id)),
        },
        actions,
    });
}

/// The owner of `id` in `model` (a column's: its relation's).
fn owner_of(model: &Model, id: &ObjectId) -> Option<String> {
    if id.kind != Kind::Column {
        return model.owners.get(&id.sql()).cloned();
    }
    [Kind::Table, Kind::View, Kind::MaterializedView]
        .into_iter()
        .find_map(|kind| {
            let relation = ObjectId::new(kind, id.schema.clone(), id.name.clone());
            model.owners.get(&relation.sql()).cloned()
        })
}

fn has_column(model: &Model, id: &ObjectId) -> bool {
    let column = id.member.as_deref().unwrap_or_default();
    let name = id.qualified();
    model
        .tables
        .get(&name)
        .is_some_and(|t| t.column(column).is_some())
        || model
            .views
            .get(&name.to_string())
            .is_some_and(|v| v.columns.iter().any(|c| c.name == column))
}

fn default_privileges(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    let keys: BTreeSet<&String> = from
        .default_privileges
        .keys()
        .chain(to.default_privileges.keys())
        .collect();
    for key in keys {
        let (live, desired) = (
            from.default_privileges.get(key),
            to.default_privileges.get(key),
        );
        // Without an entry, a role's new objects get what the other side's entry calls the
        // defaults (the built-in ones, or nothing for an entry `IN SCHEMA`).
        let entry = desired.or(live).expect("a key from one of the sides");
        let start = live.map_or(&entry.defaults, |l| &l.privileges);
        let end = desired.map_or(&entry.defaults, |d| &d.privileges);
        let actions = actions(start, end);
        if !actions.is_empty() {
            changes.push(Change::SetPrivileges {
                target: PrivilegeTarget::Default {
                    role: entry.role.clone(),
                    schema: entry.schema.clone(),
                    objects: entry.objects,
                },
                actions,
            });
        }
    }
}

/// Owners the files set (the desired side holds no others) that differ from the live ones.
fn owners(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    for (key, owner) in &to.owners {
        let Some(acl) = to.acls.get(key) else {
            continue;
        };
        // A sequence owned by a column (serial, identity) has its table's owner: PostgreSQL
        // keeps the two the same, and it may not exist as a step of its own.
        let id = &acl.target;
        if id.kind == Kind::Sequence
            && to
                .sequences
                .get(&id.qualified())
                .is_none_or(|s| s.owned_by.is_some())
        {
            continue;
        }
        if from.owners.get(key) != Some(owner) {
            changes.push(Change::SetOwner {
                id: acl.target.clone(),
                owner: owner.clone(),
            });
        }
    }
}
