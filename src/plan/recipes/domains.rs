//! Domains. A new CHECK on a domain that columns with rows use is added `NOT VALID` in
//! expand (no scan) and validated in validate; PostgreSQL (13-17) validates a domain's check,
//! and sets its NOT NULL, under a SHARE lock on every table using the domain, which blocks
//! writes while it scans: that is a hazard. Defaults and dropped NOT NULLs are catalog-only.
//! A new base type or collation means a new domain: possible only while nothing uses it.

use crate::model::{Domain, DomainCheck, Kind, Model};
use crate::plan::resource::{expression_uses, type_uses, Resource};
use crate::plan::{Context, HazardKind, LockMode, Phase, PlanError, Step, TableWork};
use crate::sql::ddl::domains as ddl;
use crate::sql::quote_ident;

/// What a domain needs: its schema, base type, and what its default and checks call.
fn needs(model: &Model, domain: &Domain) -> Vec<Resource> {
    let mut out = vec![Resource::Schema(domain.name.schema.clone())];
    out.extend(type_uses(model, &domain.base_type));
    let expressions = domain
        .default
        .iter()
        .chain(domain.checks.values().map(|c| &c.definition));
    for expression in expressions {
        out.extend(expression_uses(model, expression));
    }
    out.retain(|r| r != &Resource::Type(domain.name.clone()));
    out
}

pub fn create(ctx: &Context, domain: &Domain) -> Step {
    Step::new(
        Phase::Expand,
        format!("create domain {}", domain.name),
        ddl::create(domain).join("\n"),
    )
    .uses(needs(ctx.to, domain))
    .creates([Resource::Type(domain.name.clone())])
}

/// Contract, after the columns and routines that use it (their steps use the type).
pub fn drop(ctx: &Context, domain: &Domain) -> Step {
    Step::new(
        Phase::Contract,
        format!("drop domain {}", domain.name),
        ddl::drop(domain),
    )
    .uses(needs(ctx.from, domain))
    .drops([Resource::Type(domain.name.clone())])
}

/// Live tables with a column of the domain (or an array of it): `(table, has rows)`.
fn tables_using(ctx: &Context, domain: &Domain) -> Vec<(String, bool)> {
    ctx.from
        .tables
        .values()
        .filter(|t| t.columns.iter().any(|c| domain.is_type_of(&c.data_type)))
        .map(|t| (t.name.to_string(), t.stats.has_rows))
        .collect()
}

pub fn alter(ctx: &Context, from: &Domain, to: &Domain) -> Result<Vec<Step>, PlanError> {
    if from.base_type != to.base_type || from.collation != to.collation {
        return recreate(ctx, from, to).map(|s| vec![s]);
    }
    let step = |phase, what: String, sql: String| {
        Step::new(phase, format!("{what} on domain {}", to.name), sql)
            .uses([Resource::Type(to.name.clone())])
    };
    let mut steps = Vec::new();
    if from.default != to.default {
        steps.push(
            step(Phase::Expand, "change default".into(), ddl::set_default(to))
                .uses(needs(ctx.to, to)),
        );
    }
    if from.not_null != to.not_null {
        let set = step(
            Phase::Expand,
            "change not null".into(),
            ddl::set_not_null(to),
        );
        steps.push(if to.not_null {
            scanning(ctx, to, set, "SET NOT NULL")
        } else {
            set
        });
    }
    let names: std::collections::BTreeSet<&String> =
        from.checks.keys().chain(to.checks.keys()).collect();
    for name in names {
        steps.extend(alter_check(
            ctx,
            to,
            from.checks.get(name),
            to.checks.get(name),
        ));
    }
    if from.comment != to.comment {
        steps.push(step(
            Phase::Expand,
            "change comment".into(),
            ddl::comment(to),
        ));
    }
    Ok(steps)
}

fn check_noun(name: &str) -> String {
    format!("check {}", quote_ident(name))
}

/// Validating a check or setting NOT NULL reads every value in the tables using the domain
/// under SHARE: in validate when any of them has rows, with the hazard that writes wait.
fn scanning(ctx: &Context, domain: &Domain, step: Step, what: &str) -> Step {
    let tables = tables_using(ctx, domain);
    let busy: Vec<&str> = tables
        .iter()
        .filter(|(_, rows)| *rows)
        .map(|(t, _)| t.as_str())
        .collect();
    if busy.is_empty() {
        return step;
    }
    let list = busy.join(", ");
    let mut step = step
        .lock(LockMode::Share, &list)
        .work(TableWork::Scan)
        .hazard(
            HazardKind::LongLock,
            format!(
                "{what} on domain {} scans {list} under SHARE: writes to them wait until it ends",
                domain.name
            ),
        );
    step.phase = Phase::Validate;
    step
}

/// One check: added (`NOT VALID` then validated when columns with rows use the domain),
/// dropped (contract), re-defined (dropped and added in one step), validated, or commented.
fn alter_check(
    ctx: &Context,
    domain: &Domain,
    old: Option<&DomainCheck>,
    new: Option<&DomainCheck>,
) -> Vec<Step> {
    let noun = |c: &DomainCheck| format!("{} on domain {}", check_noun(&c.name), domain.name);
    let uses = || [Resource::Type(domain.name.clone())];
    let Some(new) = new else {
        let old = old.expect("a check is on one side at least");
        return vec![Step::new(
            Phase::Contract,
            format!("drop {}", noun(old)),
            ddl::drop_check(domain, &old.name),
        )
        .uses(uses())];
    };
    let in_use = tables_using(ctx, domain).iter().any(|(_, rows)| *rows);
    let redefine = match old {
        None => true,
        // A validated check cannot become NOT VALID again but by re-adding it.
        Some(old) => old.definition != new.definition || (old.validated && !new.validated),
    };
    let mut steps = Vec::new();
    if redefine {
        let mut sql = Vec::new();
        if old.is_some() {
            sql.push(ddl::drop_check(domain, &new.name));
        }
        let not_valid = in_use || !new.validated;
        sql.push(ddl::add_check(domain, new, not_valid));
        if new.comment.is_some() {
            sql.push(ddl::check_comment(domain, new));
        }
        steps.push(
            Step::new(Phase::Expand, format!("add {}", noun(new)), sql.join("\n"))
                .uses(uses())
                .uses(expression_uses(ctx.to, &new.definition)),
        );
        if not_valid && new.validated {
            steps.push(validate(ctx, domain, new));
        }
        return steps;
    }
    let old = old.expect("not a new check");
    if !old.validated && new.validated {
        steps.push(validate(ctx, domain, new));
    }
    if old.comment != new.comment {
        steps.push(
            Step::new(
                Phase::Expand,
                format!("comment {}", noun(new)),
                ddl::check_comment(domain, new),
            )
            .uses(uses()),
        );
    }
    steps
}

fn validate(ctx: &Context, domain: &Domain, check: &DomainCheck) -> Step {
    let step = Step::new(
        Phase::Validate,
        format!(
            "validate {} on domain {}",
            check_noun(&check.name),
            domain.name
        ),
        ddl::validate_check(domain, &check.name),
    )
    .uses([Resource::Type(domain.name.clone())])
    .hazard(
        HazardKind::MayFail,
        "fails if a value already stored breaks the check",
    );
    scanning(ctx, domain, step, "VALIDATE CONSTRAINT")
}

/// A new base type or collation: drop and create, which PostgreSQL allows only while no
/// column, routine or other domain uses the domain. Otherwise refused with the recipe.
fn recreate(ctx: &Context, from: &Domain, to: &Domain) -> Result<Step, PlanError> {
    let mut users: Vec<String> = tables_using(ctx, from)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    users.extend(
        ctx.from
            .depends
            .iter()
            .filter(|d| d.referenced.kind == Kind::Type && d.referenced.qualified() == from.name)
            .map(|d| d.dependent.to_string()),
    );
    users.extend(
        ctx.from
            .domains
            .values()
            .filter(|d| from.is_type_of(&d.base_type))
            .map(|d| d.name.to_string()),
    );
    if !users.is_empty() {
        return Err(PlanError::Unsupported {
            what: format!("the new base type or collation of domain {}", to.name),
            reason: format!(
                "{} use(s) it; create a domain under a new name, convert the columns to it \
                 (`-- zdm:using`), then drop the old one",
                users.join(", ")
            ),
        });
    }
    let mut sql = vec![ddl::drop(from)];
    sql.extend(ddl::create(to));
    Ok(Step::new(
        Phase::Expand,
        format!("re-create domain {} (new base type or collation)", to.name),
        sql.join("\n"),
    )
    .uses(needs(ctx.to, to))
    .uses([Resource::Type(to.name.clone())]))
}
