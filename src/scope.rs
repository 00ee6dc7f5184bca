//! What zdm manages: the schemas it looks at and the objects it leaves alone.
//!
//! A team's database often holds objects that no schema file declares on purpose: the tables a
//! job queue library creates for itself, a schema another service owns. Without a scope zdm
//! would plan to drop them. `zdm.toml`'s `schemas = [...]` and `ignore = [...]` (and the
//! `--schemas` / `--ignore` flags) take them out of *both* sides before anything is compared,
//! so they are never created, changed or dropped.
//!
//! Patterns are `[kind:]schema.name`, each part a glob (`*` any run of characters, `?` one),
//! matched against the names as PostgreSQL stores them (unquoted): `public.hangfire_*`,
//! `function:util.debug_*`, `schema:audit`. Kinds: `table`, `view`, `materialized_view`,
//! `function`, `procedure`, `sequence`, `type` (enums and domains), `schema`. Without a kind,
//! a pattern matches objects of every kind. What belongs to a left-out table goes with it:
//! its triggers, policies, row-level security, privileges, partitions, and the sequences its
//! columns own (leaving such a sequence in scope would plan a drop that takes the column's
//! default with it).

use std::collections::BTreeSet;

use thiserror::Error;

use crate::model::{Kind, Model, ObjectId, QualifiedName};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScopeError {
    #[error("ignore pattern `{pattern}`: {reason} (expected [kind:]schema.name, e.g. public.hangfire_* or function:util.*)")]
    BadPattern { pattern: String, reason: String },
}

/// The managed schemas (empty: all user schemas) and the ignore patterns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    schemas: Vec<String>,
    ignore: Vec<Pattern>,
}

/// One `ignore` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// `None`: every kind.
    kind: Option<PatternKind>,
    schema: String,
    /// Unused for `schema:` patterns.
    name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternKind {
    Object(Kind),
    /// Enums and domains (both `TYPE` to PostgreSQL).
    Type,
    Schema,
}

impl Scope {
    pub fn new(schemas: Vec<String>, ignore: &[String]) -> Result<Scope, ScopeError> {
        let ignore = ignore
            .iter()
            .map(|p| Pattern::parse(p))
            .collect::<Result<_, _>>()?;
        Ok(Scope { schemas, ignore })
    }

    pub fn is_everything(&self) -> bool {
        self.schemas.is_empty() && self.ignore.is_empty()
    }

    /// Whether zdm manages schema `name` (and may manage what it holds).
    pub fn manages_schema(&self, name: &str) -> bool {
        (self.schemas.is_empty() || self.schemas.iter().any(|s| s == name))
            && !self.ignore.iter().any(|p| p.matches_schema(name))
    }

    /// Whether zdm manages the object of `kind` named `name`.
    pub fn manages(&self, kind: Kind, name: &QualifiedName) -> bool {
        self.manages_schema(&name.schema) && !self.ignore.iter().any(|p| p.matches(kind, name))
    }

    /// Remove from `model` everything out of scope; what was removed is listed in
    /// `model.ignored` (display names, sorted).
    pub fn apply(&self, model: &mut Model) {
        if self.is_everything() {
            return;
        }
        let mut removed = Removed::default();
        self.remove_types(model, &mut removed);
        self.remove_tables(model, &mut removed);
        self.remove_views_and_routines(model, &mut removed);
        remove_table_members(model, &removed);
        self.remove_schemas(model, &mut removed);
        remove_privileges(model, &removed);
        model
            .depends
            .retain(|d| !removed.ids.contains(&d.dependent));
        model.unmanaged.retain(|o| {
            let schema = o.name.split('.').next().unwrap_or_default();
            self.manages_schema(schema)
        });
        model.ignored = removed.names.into_iter().collect();
    }

    fn remove_types(&self, model: &mut Model, removed: &mut Removed) {
        model
            .enums
            .retain(|name, _| removed.keep(self.manages(Kind::Type, name), Kind::Type, name));
        model
            .domains
            .retain(|name, _| removed.keep(self.manages(Kind::Type, name), Kind::Type, name));
        model
            .composites
            .retain(|name, _| removed.keep(self.manages(Kind::Type, name), Kind::Type, name));
        model
            .ranges
            .retain(|name, _| removed.keep(self.manages(Kind::Type, name), Kind::Type, name));
        // Collations have no kind of their own in `ignore` patterns: their schema decides.
        model
            .collations
            .retain(|name, _| self.manages_schema(&name.schema));
    }

    /// Tables, their partitions, and the sequences their columns own.
    fn remove_tables(&self, model: &mut Model, removed: &mut Removed) {
        let mut out: BTreeSet<QualifiedName> = model
            .tables
            .keys()
            .filter(|name| !self.manages(Kind::Table, name))
            .cloned()
            .collect();
        // A partition cannot stay without its parent; partitions nest, so repeat to the leaves.
        loop {
            let more: Vec<QualifiedName> = model
                .tables
                .values()
                .filter(|t| !out.contains(&t.name))
                .filter(|t| {
                    t.partition_of
                        .as_ref()
                        .is_some_and(|p| out.contains(&p.parent))
                })
                .map(|t| t.name.clone())
                .collect();
            if more.is_empty() {
                break;
            }
            out.extend(more);
        }
        model
            .tables
            .retain(|name, _| removed.keep(!out.contains(name), Kind::Table, name));
        model.sequences.retain(|name, sequence| {
            let owner_out = sequence
                .owned_by
                .as_ref()
                .is_some_and(|c| out.contains(&c.table));
            let keep = self.manages(Kind::Sequence, name) && !owner_out;
            removed.keep(keep, Kind::Sequence, name)
        });
        removed.tables = out;
    }

    fn remove_views_and_routines(&self, model: &mut Model, removed: &mut Removed) {
        model.views.retain(|_, view| {
            let keep = self.manages(view.id.kind, &view.name);
            removed.keep_id(keep, &view.id)
        });
        model.routines.retain(|_, routine| {
            let keep = self.manages(routine.id.kind, &routine.name);
            removed.keep_id(keep, &routine.id)
        });
        model.aggregates.retain(|_, aggregate| {
            let keep = self.manages(aggregate.id.kind, &aggregate.name);
            removed.keep_id(keep, &aggregate.id)
        });
        model
            .view_reads
            .retain(|r| !removed.ids.iter().any(|id| id.qualified() == r.view));
    }

    fn remove_schemas(&self, model: &mut Model, removed: &mut Removed) {
        model.schemas.retain(|name, _| {
            let keep = self.manages_schema(name);
            removed.keep_id(keep, &ObjectId::schema(name.clone()))
        });
        model
            .extensions
            .retain(|_, extension| self.manages_schema(&extension.schema));
        // Database-wide: one belongs to the schema of the function it calls.
        model
            .event_triggers
            .retain(|_, trigger| self.manages_schema(&trigger.function.schema));
        model.default_privileges.retain(|_, entry| {
            entry
                .schema
                .as_deref()
                .is_none_or(|schema| self.manages_schema(schema))
        });
    }
}

/// Triggers, policies and row-level security of the tables left out.
fn remove_table_members(model: &mut Model, removed: &Removed) {
    model
        .triggers
        .retain(|_, trigger| !removed.tables.contains(&trigger.table));
    model
        .policies
        .retain(|_, policy| !removed.tables.contains(&policy.table));
    model
        .row_security
        .retain(|table, _| !removed.tables.contains(table));
}

/// ACLs and owners are keyed by `ObjectId::sql`; a table's columns have ACLs of their own.
fn remove_privileges(model: &mut Model, removed: &Removed) {
    let keys: BTreeSet<String> = removed.ids.iter().map(ObjectId::sql).collect();
    let column_prefixes: Vec<String> = removed
        .tables
        .iter()
        .map(|t| format!("{} {t}.", Kind::Column.sql()))
        .collect();
    let out = |key: &String| {
        keys.contains(key) || column_prefixes.iter().any(|p| key.starts_with(p.as_str()))
    };
    model.acls.retain(|key, _| !out(key));
    model.owners.retain(|key, _| !out(key));
}

/// What [`Scope::apply`] took out.
#[derive(Default)]
struct Removed {
    ids: BTreeSet<ObjectId>,
    tables: BTreeSet<QualifiedName>,
    names: BTreeSet<String>,
}

impl Removed {
    /// `keep`, recording the object when it is not kept (for `retain`).
    fn keep(&mut self, keep: bool, kind: Kind, name: &QualifiedName) -> bool {
        self.keep_id(
            keep,
            &ObjectId::new(kind, name.schema.clone(), name.name.clone()),
        )
    }

    fn keep_id(&mut self, keep: bool, id: &ObjectId) -> bool {
        if !keep {
            self.names
                .insert(format!("{} {id}", id.kind.sql().to_lowercase()));
            self.ids.insert(id.clone());
        }
        keep
    }
}

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, ScopeError> {
        let bad = |reason: &str| ScopeError::BadPattern {
            pattern: text.to_string(),
            reason: reason.to_string(),
        };
        let (kind, rest) = match text.split_once(':') {
            Some((kind, rest)) => (
                Some(parse_kind(kind.trim()).ok_or_else(|| bad("unknown kind"))?),
                rest.trim(),
            ),
            None => (None, text.trim()),
        };
        if kind == Some(PatternKind::Schema) {
            if rest.is_empty() || rest.contains('.') {
                return Err(bad("a schema pattern is one name"));
            }
            return Ok(Pattern {
                kind,
                schema: rest.to_string(),
                name: String::new(),
            });
        }
        match rest.split_once('.') {
            Some((schema, name)) if !schema.is_empty() && !name.is_empty() => Ok(Pattern {
                kind,
                schema: schema.to_string(),
                name: name.to_string(),
            }),
            _ => Err(bad("no schema")),
        }
    }

    fn matches_schema(&self, schema: &str) -> bool {
        self.kind == Some(PatternKind::Schema) && glob(&self.schema, schema)
    }

    fn matches(&self, kind: Kind, name: &QualifiedName) -> bool {
        let kind_matches = match self.kind {
            None => true,
            Some(PatternKind::Object(k)) => k == kind,
            Some(PatternKind::Type) => kind == Kind::Type,
            Some(PatternKind::Schema) => return false,
        };
        kind_matches && glob(&self.schema, &name.schema) && glob(&self.name, &name.name)
    }
}

fn parse_kind(word: &str) -> Option<PatternKind> {
    Some(
        match word.to_ascii_lowercase().replace([' ', '-'], "_").as_str() {
            "table" => PatternKind::Object(Kind::Table),
            "view" => PatternKind::Object(Kind::View),
            "materialized_view" | "matview" => PatternKind::Object(Kind::MaterializedView),
            "function" => PatternKind::Object(Kind::Function),
            "procedure" => PatternKind::Object(Kind::Procedure),
            "aggregate" => PatternKind::Object(Kind::Aggregate),
            "sequence" => PatternKind::Object(Kind::Sequence),
            "type" | "enum" | "domain" | "composite" => PatternKind::Type,
            "schema" => PatternKind::Schema,
            _ => return None,
        },
    )
}

/// `*` matches any run of characters, `?` exactly one; everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative matching with one backtrack point: the last `*` seen.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> QualifiedName {
        let (schema, name) = s.split_once('.').unwrap();
        QualifiedName::new(schema, name)
    }

    #[test]
    fn globs() {
        assert!(glob("hangfire_*", "hangfire_job"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*_tmp_*", "x_tmp_y"));
        assert!(!glob("job", "jobs"));
        assert!(glob("Ü*", "Über"));
    }

    #[test]
    fn patterns_match_by_kind_schema_and_name() {
        let scope = Scope::new(
            vec![],
            &[
                "public.hangfire_*".into(),
                "function:util.debug_?".into(),
                "schema:audit".into(),
            ],
        )
        .unwrap();
        assert!(!scope.manages(Kind::Table, &name("public.hangfire_job")));
        assert!(!scope.manages(Kind::Sequence, &name("public.hangfire_job_id_seq")));
        assert!(scope.manages(Kind::Table, &name("public.orders")));
        assert!(!scope.manages(Kind::Function, &name("util.debug_1")));
        assert!(scope.manages(Kind::View, &name("util.debug_1")));
        assert!(!scope.manages_schema("audit"));
        assert!(!scope.manages(Kind::Table, &name("audit.log")));
    }

    #[test]
    fn a_schema_list_keeps_only_those_schemas() {
        let scope = Scope::new(vec!["app".into()], &[]).unwrap();
        assert!(scope.manages(Kind::Table, &name("app.t")));
        assert!(!scope.manages(Kind::Table, &name("public.t")));
        assert!(!scope.manages_schema("public"));
    }

    #[test]
    fn bad_patterns_say_why() {
        for (text, reason) in [
            ("hangfire_*", "no schema"),
            ("tabel:public.t", "unknown kind"),
            ("schema:a.b", "a schema pattern is one name"),
        ] {
            let error = Scope::new(vec![], &[text.to_string()]).unwrap_err();
            let shown = error.to_string();
            assert!(shown.contains(text) && shown.contains(reason), "{shown}");
        }
    }
}
