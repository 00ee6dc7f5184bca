//! The one diff for object kinds identified by [`ObjectId`]: pair both sides by key, then each
//! pair is a create, a drop, a replace (what `CREATE OR REPLACE` accepts), a re-create, or
//! equal. A kind says only how two versions of one object compare ([`Keyed::verdict`]).
//!
//! Every compared text is PostgreSQL's rendering from the same catalog code on both sides, so
//! an object written differently but stored identically compares equal and is never touched.

use std::collections::BTreeMap;

use super::{paired, Change};
use crate::model::{Aggregate, Kind, Object, ObjectId, Routine, Trigger, View};

/// How the desired version of an object differs from the live one (comments aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Same,
    Replace,
    Recreate,
}

pub trait Keyed: Clone {
    fn object(&self) -> Object;
    fn comment(&self) -> Option<&str>;
    fn verdict(&self, to: &Self) -> Verdict;
    /// Changes besides the definition and the object's own comment (view column comments,
    /// materialized view indexes), for an object whose verdict is `Same` or `Replace`.
    fn details(&self, _to: &Self, _changes: &mut Vec<Change>) {}
}

pub fn diff_keyed<T: Keyed>(
    from: &BTreeMap<String, T>,
    to: &BTreeMap<String, T>,
    changes: &mut Vec<Change>,
) {
    for (_, old, new) in paired(from, to) {
        match (old, new) {
            (None, Some(new)) => changes.push(Change::CreateObject {
                object: new.object(),
            }),
            (Some(old), None) => changes.push(Change::DropObject {
                object: old.object(),
            }),
            (Some(old), Some(new)) => {
                let verdict = old.verdict(new);
                match verdict {
                    Verdict::Same => {}
                    Verdict::Replace => changes.push(Change::ReplaceObject {
                        from: old.object(),
                        to: new.object(),
                    }),
                    // A re-created object gets its comments with it.
                    Verdict::Recreate => {
                        changes.push(Change::RecreateObject {
                            from: old.object(),
                            to: new.object(),
                        });
                        continue;
                    }
                }
                if old.comment() != new.comment() {
                    changes.push(Change::SetComment {
                        target: new.object().id().clone(),
                        comment: new.comment().map(str::to_string),
                    });
                }
                old.details(new, changes);
            }
            (None, None) => {}
        }
    }
}

impl Keyed for View {
    fn object(&self) -> Object {
        Object::View(self.clone())
    }

    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    fn verdict(&self, to: &Self) -> Verdict {
        let shape = |v: &View| -> Vec<(String, String)> {
            v.columns
                .iter()
                .map(|c| (c.name.clone(), c.data_type.clone()))
                .collect()
        };
        let (old, new) = (shape(self), shape(to));
        if self.id.kind != to.id.kind {
            // A view that becomes materialized, or back: same name, another object.
            return Verdict::Recreate;
        }
        if self.definition == to.definition && old == new && self.options == to.options {
            return Verdict::Same;
        }
        // CREATE OR REPLACE VIEW keeps every existing column (name and type, in order) and
        // may only add columns at the end; a materialized view has no OR REPLACE at all.
        if !self.materialized() && new.len() >= old.len() && new[..old.len()] == old[..] {
            Verdict::Replace
        } else {
            Verdict::Recreate
        }
    }

    fn details(&self, to: &Self, changes: &mut Vec<Change>) {
        for column in &to.columns {
            let old = self.columns.iter().find(|c| c.name == column.name);
            if old.map(|c| &c.comment).unwrap_or(&None) != &column.comment {
                changes.push(Change::SetComment {
                    target: ObjectId::member(Kind::Column, &to.name, &column.name),
                    comment: column.comment.clone(),
                });
            }
        }
        let definitions = |v: &View| -> Vec<(String, String)> {
            v.indexes
                .values()
                .map(|i| (i.name.clone(), i.definition.clone()))
                .collect()
        };
        if definitions(self) != definitions(to) {
            changes.push(Change::AlterViewIndexes {
                from: self.clone(),
                to: to.clone(),
            });
        }
        for index in to.indexes.values() {
            let old = self.indexes.get(&index.name);
            // A new or rebuilt index gets its comment with it.
            if old.is_some_and(|o| o.definition == index.definition && o.comment != index.comment) {
                changes.push(Change::SetComment {
                    target: ObjectId::member(Kind::Index, &to.name, &index.name),
                    comment: index.comment.clone(),
                });
            }
        }
    }
}

impl Keyed for Routine {
    fn object(&self) -> Object {
        Object::Routine(self.clone())
    }

    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    fn verdict(&self, to: &Self) -> Verdict {
        if self.definition == to.definition {
            Verdict::Same
        } else if self.arguments == to.arguments && self.result == to.result {
            Verdict::Replace
        } else {
            // Same identity (argument types) but a renamed parameter, a changed default or
            // result type: PostgreSQL refuses those in CREATE OR REPLACE.
            Verdict::Recreate
        }
    }
}

impl Keyed for Aggregate {
    fn object(&self) -> Object {
        Object::Aggregate(self.clone())
    }

    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    fn verdict(&self, to: &Self) -> Verdict {
        if self.options == to.options
            && self.arguments == to.arguments
            && self.kind == to.kind
            && self.result == to.result
        {
            Verdict::Same
        } else if self.arguments == to.arguments && self.kind == to.kind && self.result == to.result
        {
            Verdict::Replace
        } else {
            // CREATE OR REPLACE AGGREGATE keeps the argument names, the kind (normal,
            // ordered-set, hypothetical) and the result type.
            Verdict::Recreate
        }
    }
}

impl Keyed for Trigger {
    fn object(&self) -> Object {
        Object::Trigger(self.clone())
    }

    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    fn verdict(&self, to: &Self) -> Verdict {
        if self.definition == to.definition && self.enabled == to.enabled {
            Verdict::Same
        } else {
            // Re-defined in one short transaction (or just enabled / disabled): no dependents.
            Verdict::Replace
        }
    }
}

/// The live dependents of `id` (views, routines and triggers that need it), transitively,
/// `id` itself excluded, from `depends` edges.
pub fn dependents_of(depends: &[crate::model::Dependency], id: &ObjectId) -> Vec<ObjectId> {
    let mut out: Vec<ObjectId> = Vec::new();
    let mut todo = vec![id.clone()];
    while let Some(next) = todo.pop() {
        for d in depends {
            let hit = d.referenced == next
                || (next.kind.is_relation()
                    && (d.referenced.kind.is_relation() || d.referenced.kind == Kind::Column)
                    && d.referenced.qualified() == next.qualified());
            if hit && &d.dependent != id && !out.contains(&d.dependent) {
                out.push(d.dependent.clone());
                todo.push(d.dependent.clone());
            }
        }
    }
    out
}
