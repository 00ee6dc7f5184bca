//! The text of each object a dump writes: its `CREATE`, then what hangs off it (indexes,
//! constraints the `CREATE` cannot hold, comments, row-level security, triggers, grants), as a
//! person would keep it next to the object.

use std::collections::{BTreeMap, BTreeSet};

use super::{Chunk, Group};
use crate::diff::privileges::{actions, new_object_privileges, PrivilegeTarget};
use crate::model::{Acl, Grantee, Kind, Model, ObjectId, Privilege, QualifiedName, Table};
use crate::sql::ddl::{
    self, aggregates, collations, composites, domains, policies, privileges, ranges, routines,
    triggers, views,
};
use crate::sql::quote_ident;

/// What `initdb` says of `public`.
const STANDARD_PUBLIC_COMMENT: &str = "standard public schema";

/// Every chunk of `model`, in no particular order (the layout sorts them).
pub(super) fn chunks(model: &Model, data: &BTreeMap<QualifiedName, String>) -> Vec<Chunk> {
    let mut out = Vec::new();
    for schema in model.schemas.values() {
        let mut lines = Vec::new();
        // `public` exists in every new database: only what was changed about it is dumped.
        if schema.name != "public" {
            lines.push(ddl::create_schema(schema));
        }
        let untouched_public =
            schema.name == "public" && schema.comment.as_deref() == Some(STANDARD_PUBLIC_COMMENT);
        if let Some(comment) = schema.comment.as_ref().filter(|_| !untouched_public) {
            let target = format!("SCHEMA {}", quote_ident(&schema.name));
            lines.push(ddl::comment_on(&target, Some(comment)));
        }
        lines.extend(grants(model, &ObjectId::schema(schema.name.clone())));
        out.push(Chunk::new(&schema.name, Group::Schema, "", lines));
    }
    // plpgsql is in every database `initdb` makes.
    for extension in model.extensions.values().filter(|e| e.name != "plpgsql") {
        // Off its default, the files must say the version or a database built from them
        // (and zdm's shadow) would get the default instead.
        let mut extension = extension.clone();
        extension.version_pinned =
            extension.default_version.as_deref() != Some(extension.version.as_str());
        let lines = vec![ddl::create_extension(&extension)];
        out.push(Chunk::database(Group::Extension, &extension.name, lines));
    }
    for entry in model.default_privileges.values() {
        let target = PrivilegeTarget::Default {
            role: entry.role.clone(),
            schema: entry.schema.clone(),
            objects: entry.objects,
        };
        let lines = statements(&target, &entry.defaults, &entry.privileges);
        out.push(Chunk::database(
            Group::DefaultPrivileges,
            &entry.key(),
            lines,
        ));
    }
    for trigger in model.event_triggers.values() {
        // Owned by whoever loads the files, like every created object.
        let trigger = crate::model::EventTrigger {
            owner: None,
            ..trigger.clone()
        };
        let lines = vec![ddl::event_triggers::definition(&trigger)];
        out.push(Chunk::database(Group::EventTrigger, &trigger.name, lines));
    }
    for enum_type in model.enums.values() {
        let mut lines = vec![ddl::enum_definition(enum_type)];
        lines.extend(grants(model, &type_id(&enum_type.name)));
        out.push(Chunk::of(&enum_type.name, Group::Type, lines));
    }
    for domain in model.domains.values() {
        let mut lines = vec![domains::definition(domain)];
        lines.extend(grants(model, &type_id(&domain.name)));
        out.push(Chunk::of(&domain.name, Group::Type, lines));
    }
    for collation in model.collations.values() {
        let lines = vec![collations::definition(collation)];
        out.push(Chunk::of(&collation.name, Group::Collation, lines));
    }
    for composite in model.composites.values() {
        let mut lines = vec![composites::definition(composite)];
        lines.extend(grants(model, &type_id(&composite.name)));
        out.push(Chunk::of(&composite.name, Group::Type, lines));
    }
    for range in model.ranges.values() {
        let mut lines = vec![ranges::definition(range)];
        lines.extend(grants(model, &type_id(&range.name)));
        out.push(Chunk::of(&range.name, Group::Type, lines));
    }
    for sequence in model.sequences.values() {
        // A sequence a column owns (serial) lives with its table, before it: the column's
        // default names it.
        let (home, rank) = match &sequence.owned_by {
            Some(owner) => (&owner.table, 0),
            None => (&sequence.name, 1),
        };
        let group = if sequence.owned_by.is_some() {
            Group::Table
        } else {
            Group::Sequence
        };
        let mut lines = vec![ddl::create_sequence(sequence)];
        if let Some(comment) = &sequence.comment {
            let target = format!("SEQUENCE {}", sequence.name);
            lines.push(ddl::comment_on(&target, Some(comment)));
        }
        let id = ObjectId::new(Kind::Sequence, &sequence.name.schema, &sequence.name.name);
        lines.extend(grants(model, &id));
        let mut chunk = Chunk::of(home, group, lines);
        chunk.rank = rank;
        chunk.sort = sequence.name.to_string();
        out.push(chunk);
        if sequence.owned_by.is_some() {
            let mut owned = Chunk::of(home, group, vec![ddl::sequence_owned_by(sequence)]);
            owned.rank = 3;
            owned.sort = sequence.name.to_string();
            out.push(owned);
        }
    }
    for table in model.tables.values() {
        // A partition lives in its parent's file, after it.
        let (home, rank) = match root_of(model, &table.name) {
            root if root == table.name => (root, 1),
            root => (root, 2),
        };
        let mut chunk = Chunk::of(
            &home,
            Group::Table,
            table_lines(model, table, data.get(&table.name)),
        );
        chunk.rank = rank;
        chunk.sort = table.name.to_string();
        out.push(chunk);
    }
    for view in model.views.values() {
        let mut lines = vec![views::definition(view)];
        lines.extend(grants(model, &view.id));
        lines.extend(column_grants(model, &view.name));
        lines.extend(triggers_on(model, &view.name));
        out.push(Chunk::of(&view.name, Group::View, lines));
    }
    for routine in model.routines.values() {
        let mut lines = vec![routines::definition(routine)];
        lines.extend(grants(model, &routine.id));
        let mut chunk = Chunk::of(&routine.name, Group::Function, lines);
        chunk.sort = routine.id.to_string();
        out.push(chunk);
    }
    for aggregate in model.aggregates.values() {
        // In the file of its name, after the functions it calls (which may share it).
        let mut lines = vec![aggregates::definition(aggregate)];
        lines.extend(grants(model, &aggregate.id));
        let mut chunk = Chunk::of(&aggregate.name, Group::Function, lines);
        chunk.rank = 2;
        chunk.sort = aggregate.id.to_string();
        out.push(chunk);
    }
    out
}

/// The partitioned table at the top of `name`'s partition tree (`name` itself when it is none).
fn root_of(model: &Model, name: &QualifiedName) -> QualifiedName {
    let mut current = name.clone();
    // Bounded by the number of tables: a malformed model cannot loop forever.
    for _ in 0..=model.tables.len() {
        match model
            .tables
            .get(&current)
            .and_then(|t| t.partition_of.as_ref())
        {
            Some(partition) => current = partition.parent.clone(),
            None => break,
        }
    }
    current
}

fn type_id(name: &QualifiedName) -> ObjectId {
    ObjectId::new(Kind::Type, &name.schema, &name.name)
}

/// A table and everything that hangs off it; with `rows` (`zdm dump --data`), marked
/// `-- zdm:data` and followed by the `INSERT` of its rows.
fn table_lines(model: &Model, table: &Table, rows: Option<&String>) -> Vec<String> {
    let create = ddl::create_table(table, false);
    let mut lines = vec![match rows {
        Some(_) => format!("-- zdm:data\n{create}"),
        None => create,
    }];
    // Foreign keys may point at tables of other files, and constraints that are not valid yet
    // cannot be written inside `CREATE TABLE`.
    lines.extend(
        table
            .constraints
            .values()
            .filter(|c| !c.inherited && !c.inline_in_create_table(false))
            .map(|c| ddl::add_constraint(&table.name, c)),
    );
    lines.extend(
        ddl::pending_not_nulls(table)
            .into_iter()
            .map(|(column, name)| {
                ddl::tables::add_not_null_not_valid(&table.name, Some(name), column)
            }),
    );
    lines.extend(table.indexes.values().map(ddl::create_index));
    if !table.replica_identity.is_default() {
        lines.push(ddl::set_replica_identity(
            &table.name,
            &table.replica_identity,
        ));
    }
    lines.extend(table_comments(table));
    let security = model
        .row_security
        .get(&table.name)
        .copied()
        .unwrap_or_default();
    if security.enabled {
        lines.push(policies::set_enabled(&table.name, true));
    }
    if security.forced {
        lines.push(policies::set_forced(&table.name, true));
    }
    lines.extend(
        model
            .policies
            .values()
            .filter(|p| p.table == table.name)
            .map(policies::definition),
    );
    lines.extend(triggers_on(model, &table.name));
    let id = ObjectId::new(Kind::Table, &table.name.schema, &table.name.name);
    lines.extend(grants(model, &id));
    lines.extend(column_grants(model, &table.name));
    lines.extend(rows.cloned());
    lines
}

fn table_comments(table: &Table) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(comment) = &table.comment {
        lines.push(ddl::comment_on(
            &format!("TABLE {}", table.name),
            Some(comment),
        ));
    }
    for column in table.columns.iter().filter(|c| c.comment.is_some()) {
        let target = format!("COLUMN {}.{}", table.name, quote_ident(&column.name));
        lines.push(ddl::comment_on(&target, column.comment.as_deref()));
    }
    for constraint in table.constraints.values().filter(|c| c.comment.is_some()) {
        let target = format!(
            "CONSTRAINT {} ON {}",
            quote_ident(&constraint.name),
            table.name
        );
        lines.push(ddl::comment_on(&target, constraint.comment.as_deref()));
    }
    for index in table.indexes.values().filter(|i| i.comment.is_some()) {
        let name = QualifiedName::new(table.name.schema.clone(), index.name.clone());
        lines.push(ddl::comment_on(
            &format!("INDEX {name}"),
            index.comment.as_deref(),
        ));
    }
    lines
}

fn triggers_on(model: &Model, relation: &QualifiedName) -> Vec<String> {
    model
        .triggers
        .values()
        .filter(|t| &t.table == relation)
        .map(triggers::definition)
        .collect()
}

/// The grants that take a new object from what its `CREATE` gives it to what it holds.
fn grants(model: &Model, id: &ObjectId) -> Vec<String> {
    let Some(acl) = model.acls.get(&id.sql()) else {
        return Vec::new();
    };
    if is_untouched_public_schema(model, acl) {
        return Vec::new();
    }
    // A created object starts from `acldefault`, or from what the dumped default privileges
    // give it when they run first: the files do not fix that order, so the statements must
    // reach the same privileges from either start (a GRANT of what is held, or a REVOKE of
    // what is not, does nothing).
    let plain = &acl.defaults;
    let with_defaults = new_object_privileges(model, acl);
    if *plain == with_defaults {
        return object_statements(acl, plain);
    }
    let union: BTreeSet<Privilege> = plain.union(&with_defaults).cloned().collect();
    let common: BTreeSet<Privilege> = plain.intersection(&with_defaults).cloned().collect();
    let target = object_target(acl);
    let revokes = actions(&union, &acl.privileges)
        .into_iter()
        .filter(|(_, action, _)| action.takes_away());
    let grants = actions(&common, &acl.privileges)
        .into_iter()
        .filter(|(_, action, _)| !action.takes_away());
    revokes
        .chain(grants)
        .map(|(grantee, action, list)| privileges::statement(&target, &grantee, action, &list))
        .collect()
}

/// `public` as every new database has it: its standard comment, usage for everyone (and,
/// before PostgreSQL 15, create for everyone too).
fn is_untouched_public_schema(model: &Model, acl: &Acl) -> bool {
    if acl.target.kind != Kind::Schema || acl.target.schema != "public" {
        return false;
    }
    let standard_comment = model
        .schemas
        .get("public")
        .is_some_and(|s| s.comment.as_deref() == Some(STANDARD_PUBLIC_COMMENT));
    let item = |grantee: Grantee, privilege: &str| Privilege {
        grantee,
        privilege: privilege.to_string(),
        grantable: false,
    };
    let mut standard: BTreeSet<Privilege> = [
        item(Grantee::Owner, "USAGE"),
        item(Grantee::Owner, "CREATE"),
        item(Grantee::Public, "USAGE"),
    ]
    .into();
    let modern = acl.privileges == standard;
    standard.insert(item(Grantee::Public, "CREATE"));
    standard_comment && (modern || acl.privileges == standard)
}

/// Column grants: a column starts with no privileges of its own.
fn column_grants(model: &Model, relation: &QualifiedName) -> Vec<String> {
    let none = BTreeSet::new();
    model
        .acls
        .values()
        .filter(|acl| acl.target.kind == Kind::Column && &acl.target.qualified() == relation)
        .flat_map(|acl| object_statements(acl, &none))
        .collect()
}

/// The owner of a created object is whoever loads the files: `CURRENT_USER`.
fn object_target(acl: &Acl) -> PrivilegeTarget {
    PrivilegeTarget::Object {
        id: acl.target.clone(),
        owner: None,
    }
}

fn object_statements(acl: &Acl, start: &BTreeSet<Privilege>) -> Vec<String> {
    statements(&object_target(acl), start, &acl.privileges)
}

fn statements(
    target: &PrivilegeTarget,
    start: &BTreeSet<Privilege>,
    end: &BTreeSet<Privilege>,
) -> Vec<String> {
    actions(start, end)
        .into_iter()
        .map(|(grantee, action, list)| privileges::statement(target, &grantee, action, &list))
        .collect()
}
