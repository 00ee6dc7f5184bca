//! Model x Model -> the list of changes that turn the first into the second.
//!
//! Renames are never guessed here: an object missing on one side and present on the other is
//! a drop plus a create. Objects that are partitions of a parent index or inherited from a
//! parent table are skipped: they follow their parent.

mod change;
mod collations;
mod composites;
mod domains;
mod event_triggers;
pub use event_triggers::diff_event_triggers;
mod inheritance;
pub mod keyed;
mod policies;
pub mod privileges;
mod ranges;
mod tables;

pub use change::{column_differences, Change, EnumValuePosition, INHERITED_NOT_NULL_NAME};

use crate::model::{Kind, Model, ObjectId};
use std::collections::BTreeMap;

/// All changes that turn `from` into `to`, in a deterministic order (by object, then by kind
/// of change). Ordering for execution is the planner's job.
pub fn diff(from: &Model, to: &Model) -> Vec<Change> {
    let mut changes = Vec::new();
    diff_schemas(from, to, &mut changes);
    diff_extensions(from, to, &mut changes);
    diff_enums(from, to, &mut changes);
    collations::diff_collations(from, to, &mut changes);
    domains::diff_domains(from, to, &mut changes);
    composites::diff_composites(from, to, &mut changes);
    ranges::diff_ranges(from, to, &mut changes);
    diff_sequences(from, to, &mut changes);
    tables::diff_tables(from, to, &mut changes);
    keyed::diff_keyed(&from.views, &to.views, &mut changes);
    keyed::diff_keyed(&from.routines, &to.routines, &mut changes);
    keyed::diff_keyed(&from.aggregates, &to.aggregates, &mut changes);
    keyed::diff_keyed(&from.triggers, &to.triggers, &mut changes);
    keyed::diff_keyed(&from.policies, &to.policies, &mut changes);
    policies::diff_row_security(from, to, &mut changes);
    privileges::diff_privileges(from, to, &mut changes);
    event_triggers::diff_event_triggers(from, to, &mut changes);
    changes
}

/// Keys present on either side, each with its value on both sides.
fn paired<'a, K: Ord + Clone, V>(
    from: &'a BTreeMap<K, V>,
    to: &'a BTreeMap<K, V>,
) -> Vec<(K, Option<&'a V>, Option<&'a V>)> {
    let mut keys: Vec<&K> = from.keys().chain(to.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| (k.clone(), from.get(k), to.get(k)))
        .collect()
}

fn diff_schemas(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    for (name, old, new) in paired(&from.schemas, &to.schemas) {
        match (old, new) {
            (None, Some(new)) => {
                changes.push(Change::CreateSchema {
                    schema: new.clone(),
                });
                if new.comment.is_some() {
                    changes.push(Change::SetComment {
                        target: ObjectId::schema(name),
                        comment: new.comment.clone(),
                    });
                }
            }
            (Some(old), None) => changes.push(Change::DropSchema {
                schema: old.clone(),
            }),
            (Some(old), Some(new)) if old.comment != new.comment => {
                changes.push(Change::SetComment {
                    target: ObjectId::schema(name),
                    comment: new.comment.clone(),
                })
            }
            _ => {}
        }
    }
}

fn diff_extensions(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    for (_, old, new) in paired(&from.extensions, &to.extensions) {
        match (old, new) {
            (None, Some(new)) => changes.push(Change::CreateExtension {
                extension: new.clone(),
            }),
            (Some(old), None) => changes.push(Change::DropExtension {
                extension: old.clone(),
            }),
            (Some(old), Some(new)) => {
                if old.schema != new.schema {
                    changes.push(Change::SetExtensionSchema {
                        extension: new.clone(),
                        from_schema: old.schema.clone(),
                    })
                }
                // A version is compared only where the files pin it: the shadow database
                // otherwise installs the default version, which says nothing about what the
                // schema files want.
                if new.version_pinned && old.version != new.version {
                    changes.push(Change::UpdateExtension {
                        extension: new.clone(),
                        from_version: old.version.clone(),
                    })
                }
            }
            _ => {}
        }
    }
}

fn diff_enums(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    for (name, old, new) in paired(&from.enums, &to.enums) {
        match (old, new) {
            (None, Some(new)) => {
                changes.push(Change::CreateEnum {
                    enum_type: new.clone(),
                });
                if new.comment.is_some() {
                    changes.push(Change::SetComment {
                        target: ObjectId::named(Kind::Type, &name),
                        comment: new.comment.clone(),
                    });
                }
            }
            (Some(old), None) => changes.push(Change::DropEnum {
                enum_type: old.clone(),
            }),
            (Some(old), Some(new)) => {
                if old.labels != new.labels {
                    match enum_additions(&old.labels, &new.labels) {
                        Some(additions) => {
                            for (value, position) in additions {
                                changes.push(Change::AddEnumValue {
                                    name: name.clone(),
                                    value,
                                    position,
                                });
                            }
                        }
                        None => changes.push(Change::ReplaceEnum {
                            from: old.clone(),
                            to: new.clone(),
                        }),
                    }
                }
                if old.comment != new.comment {
                    changes.push(Change::SetComment {
                        target: ObjectId::named(Kind::Type, &name),
                        comment: new.comment.clone(),
                    });
                }
            }
            (None, None) => {}
        }
    }
}

/// When `new` is `old` with values inserted (existing ones kept, same order), the values to
/// add, each placed relative to a neighbour that exists by the time it is added.
pub(crate) fn enum_additions(
    old: &[String],
    new: &[String],
) -> Option<Vec<(String, EnumValuePosition)>> {
    let kept: Vec<&String> = new.iter().filter(|l| old.contains(l)).collect();
    if kept.len() != old.len() || kept.iter().zip(old).any(|(a, b)| *a != b) {
        return None;
    }
    let mut additions = Vec::new();
    for (i, label) in new.iter().enumerate() {
        if old.contains(label) {
            continue;
        }
        let position = match i {
            0 => match new.get(1) {
                Some(next) => EnumValuePosition::Before(next.clone()),
                None => EnumValuePosition::End,
            },
            _ => EnumValuePosition::After(new[i - 1].clone()),
        };
        additions.push((label.clone(), position));
    }
    Some(additions)
}

fn diff_sequences(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    for (name, old, new) in paired(&from.sequences, &to.sequences) {
        match (old, new) {
            (None, Some(new)) => {
                changes.push(Change::CreateSequence {
                    sequence: new.clone(),
                });
                if new.comment.is_some() {
                    changes.push(Change::SetComment {
                        target: ObjectId::named(Kind::Sequence, &name),
                        comment: new.comment.clone(),
                    });
                }
            }
            (Some(old), None) => changes.push(Change::DropSequence {
                sequence: old.clone(),
            }),
            (Some(old), Some(new)) => {
                let mut old_without_comment = old.clone();
                old_without_comment.comment = new.comment.clone();
                if &old_without_comment != new {
                    changes.push(Change::AlterSequence {
                        from: old.clone(),
                        to: new.clone(),
                    });
                }
                if old.comment != new.comment {
                    changes.push(Change::SetComment {
                        target: ObjectId::named(Kind::Sequence, &name),
                        comment: new.comment.clone(),
                    });
                }
            }
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn enum_values_added_in_the_middle_and_ends() {
        let got = enum_additions(&labels(&["b", "d"]), &labels(&["a", "b", "c", "d", "e"]));
        assert_eq!(
            got.unwrap(),
            vec![
                ("a".into(), EnumValuePosition::Before("b".into())),
                ("c".into(), EnumValuePosition::After("b".into())),
                ("e".into(), EnumValuePosition::After("d".into())),
            ]
        );
    }

    #[test]
    fn enum_reorder_or_removal_is_not_additive() {
        assert!(enum_additions(&labels(&["a", "b"]), &labels(&["b", "a"])).is_none());
        assert!(enum_additions(&labels(&["a", "b"]), &labels(&["a"])).is_none());
    }
}
