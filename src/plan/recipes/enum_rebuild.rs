//! Enum values removed or reordered, online. PostgreSQL cannot remove or reorder the values
//! of an enum, so the type is rebuilt in stages:
//!
//! - expand: the new type under a helper name (`zdm_new_status`), and every column of the
//!   old type (or an array of it) converted by the online retype (`retype`, as `-- zdm:using`
//!   does): a shadow column of the new type, kept computed by a trigger through text,
//!   backfilled, swapped in at contract in one short transaction;
//! - contract, after the swaps and the drops of columns the files remove: the old type is
//!   dropped and the new one takes its name.
//!
//! This is done by planning towards a rewritten desired model: the helper type with the new
//! values, the columns on it, the old type kept as it is live; a re-plan between phases sees
//! the same rewrite and picks up where the last phase stopped. Rows holding a removed value
//! are refused before anything runs (`workspace::enum_values`); a value written after that
//! fails the conversion (the writer's statement or the backfill), never silently.

use crate::model::{Model, QualifiedName};
use crate::plan::resource::Resource;
use crate::plan::{Op, Phase, PlanError, PlanOptions, Step, Transform};
use crate::sql::ddl;
use crate::sql::quote_ident;

/// One enum being rebuilt.
pub struct Rebuild {
    pub name: QualifiedName,
    pub helper: QualifiedName,
    /// The live columns converted (the swap steps of these drop the last use of the old type).
    pub columns: Vec<(QualifiedName, String)>,
    comment: Option<String>,
}

/// The enums of `to` whose values `from` has otherwise (not only added to): each with the
/// rewritten desired model and options to plan towards. `None`: nothing to rebuild.
pub fn prepare(
    from: &Model,
    to: &Model,
    options: &PlanOptions,
) -> Result<Option<(Model, PlanOptions, Vec<Rebuild>)>, PlanError> {
    let mut rewritten = to.clone();
    let mut options = options.clone();
    let mut rebuilds = Vec::new();
    for (name, desired) in &to.enums {
        let Some(live) = from.enums.get(name) else {
            continue;
        };
        if live.labels == desired.labels
            || crate::diff::enum_additions(&live.labels, &desired.labels).is_some()
        {
            continue;
        }
        refuse_other_users(from, name)?;
        let helper = QualifiedName::new(name.schema.clone(), super::helper_name("new", &name.name));
        let mut new_type = desired.clone();
        new_type.name = helper.clone();
        new_type.comment = None;
        rewritten.enums.insert(helper.clone(), new_type);
        rewritten.enums.insert(name.clone(), live.clone());
        let columns = retarget_columns(from, &mut rewritten, name, &helper, &mut options);
        rebuilds.push(Rebuild {
            name: name.clone(),
            helper,
            columns,
            comment: desired.comment.clone(),
        });
    }
    Ok((!rebuilds.is_empty()).then_some((rewritten, options, rebuilds)))
}

/// Domains and composite types over the enum would keep the old type from being dropped,
/// and PostgreSQL cannot change a domain's base type: refused, with what to do instead.
fn refuse_other_users(from: &Model, name: &QualifiedName) -> Result<(), PlanError> {
    let of_type = |t: &str| t.trim_end_matches("[]") == name.to_string();
    let mut users: Vec<String> = from
        .domains
        .values()
        .filter(|d| of_type(&d.base_type))
        .map(|d| format!("domain {}", d.name))
        .collect();
    users.extend(
        from.composites
            .values()
            .filter(|c| c.attributes.iter().any(|a| of_type(&a.data_type)))
            .map(|c| format!("composite type {}", c.name)),
    );
    if users.is_empty() {
        return Ok(());
    }
    Err(PlanError::Unsupported {
        what: format!("removing or reordering values of enum {name}"),
        reason: format!(
            "{} use(s) it, and PostgreSQL can neither remove enum values nor change what a domain or type is over; \
             declare a new enum type with the new values, move the domain or type to it in one release and drop the old enum in a later one",
            users.join(", ")
        ),
    })
}

/// Desired columns of the enum (or arrays of it) get the helper type; live ones of the old
/// type are converted through text. Returns those.
fn retarget_columns(
    from: &Model,
    rewritten: &mut Model,
    name: &QualifiedName,
    helper: &QualifiedName,
    options: &mut PlanOptions,
) -> Vec<(QualifiedName, String)> {
    let (old, new) = (name.to_string(), helper.to_string());
    let mut converted = Vec::new();
    for table in rewritten.tables.values_mut() {
        for column in table
            .columns
            .iter_mut()
            .filter(|c| c.data_type.trim_end_matches("[]") == old)
        {
            let array = column.data_type.ends_with("[]");
            column.data_type = column.data_type.replacen(&old, &new, 1);
            column.default = column.default.as_deref().map(|d| recast(d, &old, &new));
            if column.inherited {
                continue;
            }
            let live = from
                .tables
                .get(&table.name)
                .and_then(|t| t.column(&column.name));
            if live.is_none_or(|c| c.data_type.trim_end_matches("[]") != old) {
                continue;
            }
            let col = quote_ident(&column.name);
            let expression = if array {
                format!("{col}::text[]::{new}[]")
            } else {
                format!("{col}::text::{new}")
            };
            options.transforms.push(Transform::UsingType {
                table: table.name.clone(),
                column: column.name.clone(),
                expression,
            });
            converted.push((table.name.clone(), column.name.clone()));
        }
    }
    converted
}

/// `'a'::public.status` -> `'a'::public.zdm_new_status` (casts to the type, or arrays of it).
fn recast(text: &str, old: &str, new: &str) -> String {
    let cast = format!("::{old}");
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == '"';
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, _) in text.match_indices(&cast) {
        let end = i + cast.len();
        if text[end..].chars().next().is_some_and(is_ident) {
            continue;
        }
        out.push_str(&text[last..i]);
        out.push_str("::");
        out.push_str(new);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// Contract, last for each enum: the old type dropped, the new one renamed to it. Ordered
/// after every swap of its columns (they use the old type until then) and every drop of a
/// column or table that still holds it.
pub fn finish(from: &Model, rebuilds: &[Rebuild], steps: &mut Vec<Step>) {
    for rebuild in rebuilds {
        let old_type = Resource::Type(rebuild.name.clone());
        for step in steps.iter_mut() {
            if let Op::SwapColumns { table, column, .. } = &step.op {
                if rebuild
                    .columns
                    .iter()
                    .any(|(t, c)| t == table && c == column)
                {
                    step.uses.push(old_type.clone());
                }
            }
        }
        let mut holders = Vec::new();
        let old = rebuild.name.to_string();
        for table in from.tables.values() {
            let of_type: Vec<Resource> = table
                .columns
                .iter()
                .filter(|c| c.data_type.trim_end_matches("[]") == old)
                .map(|c| Resource::Column(table.name.clone(), c.name.clone()))
                .collect();
            if !of_type.is_empty() {
                holders.push(Resource::Relation(table.name.clone()));
                holders.extend(of_type);
            }
        }
        let mut sql = vec![
            ddl::objects::drop_type(&rebuild.name),
            ddl::objects::rename_type(&rebuild.helper, &rebuild.name.name),
        ];
        if let Some(comment) = &rebuild.comment {
            sql.push(ddl::comment_on(
                &format!("TYPE {}", rebuild.name),
                Some(comment),
            ));
        }
        let mut step = Step::new(
            Phase::Contract,
            format!(
                "drop the old type {} and give its name to {} (values removed or reordered)",
                rebuild.name, rebuild.helper
            ),
            sql.join("\n"),
        )
        .uses([Resource::Type(rebuild.helper.clone())])
        .drops([old_type]);
        step.after_drop_of.extend(holders);
        steps.push(step);
    }
}

#[cfg(test)]
mod tests {
    use super::recast;

    #[test]
    fn recasts_only_the_type_itself() {
        assert_eq!(
            recast(
                "'a'::public.status",
                "public.status",
                "public.zdm_new_status"
            ),
            "'a'::public.zdm_new_status"
        );
        assert_eq!(
            recast(
                "'{a}'::public.status[]",
                "public.status",
                "public.zdm_new_status"
            ),
            "'{a}'::public.zdm_new_status[]"
        );
        assert_eq!(
            recast("'a'::public.status_x", "public.status", "public.n"),
            "'a'::public.status_x"
        );
    }
}
