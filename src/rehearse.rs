//! Rehearsal: a plan runs on a copy of the live schema in the shadow database before anyone
//! sees it, so a step PostgreSQL refuses, or a plan that does not reach the desired schema, is
//! an error at plan time rather than a surprise in production.
//!
//! The copy is built the way pg-schema-diff validates its plans: zdm plans the live model from
//! an empty database and applies that to a fresh shadow database. Each phase of the real plan
//! then runs there, and the schema fingerprint before each phase is recorded in the plan: those
//! are the states a database may be in when a saved plan resumes days later.

use thiserror::Error;

use crate::apply::{run_steps, ApplyError, ApplyOptions};
use crate::catalog::{CatalogError, Reader};
use crate::diff::diff;
use crate::model::Model;
use crate::plan::{fingerprint, plan, Checkpoint, Phase, Plan, PlanError, PlanOptions, Step};
use crate::shadow::{ShadowDatabase, ShadowError, ShadowSource};

#[derive(Debug, Error)]
pub enum RehearsalError {
    #[error("rehearsal: {0}")]
    Shadow(#[from] ShadowError),
    #[error("rehearsal: reading the shadow copy back: {0}")]
    Catalog(#[from] CatalogError),
    #[error("rehearsal: {0}")]
    Workspace(#[from] Box<crate::workspace::WorkspaceError>),
    #[error("rehearsal: creating the live roles in the shadow cluster: {0}")]
    Roles(#[source] crate::load::LoadError),
    #[error("rehearsal: cannot plan a copy of the live schema: {0}")]
    Copy(#[source] PlanError),
    #[error("rehearsal: building the copy of the live schema failed: {0}")]
    CopyFailed(#[source] ApplyError),
    #[error(
        "the plan fails in rehearsal (on a copy of the live schema, nothing was changed): \
         phase {phase}, {source}"
    )]
    StepFailed {
        phase: Phase,
        #[source]
        source: ApplyError,
    },
    #[error(
        "the plan does not reach the desired schema in rehearsal (on a copy of the live schema); still different after every phase:\n{}",
        remaining.iter().map(|r| format!("  {r}")).collect::<Vec<_>>().join("\n")
    )]
    DoesNotConverge { remaining: Vec<String> },
}

/// What a successful rehearsal learned (cached by `workspace::cached`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rehearsal {
    /// The schema fingerprint before each phase, and after the last (`Checkpoint::done`).
    pub checkpoints: Vec<Checkpoint>,
    /// Things worth telling the user (e.g. the copy is not exact).
    pub notes: Vec<String>,
}

/// Rehearse `plan` (made from `live` toward `desired`) in a fresh database on `shadow`.
pub async fn rehearse(
    shadow: &ShadowSource,
    live: &Model,
    desired: &Model,
    plan: &Plan,
) -> Result<Rehearsal, RehearsalError> {
    let database = ShadowDatabase::create(shadow.clone()).await?;
    let result = rehearse_in(&database, live, desired, plan).await;
    let _ = database.close().await;
    result
}

async fn rehearse_in(
    database: &ShadowDatabase,
    live: &Model,
    desired: &Model,
    plan_to_rehearse: &Plan,
) -> Result<Rehearsal, RehearsalError> {
    let client = database.client();
    // One reader for the five reads of this database: its queries are planned once.
    let reader = Reader::of_own_build(client);
    let quiet = ApplyOptions::default();
    copy_in(&reader, client, live).await?;

    let mut notes = Vec::new();
    let mut model = reader.introspect().await?;
    let copy_differs = copy_differences(live, &model);
    if !copy_differs.is_empty() {
        notes.push(format!(
            "rehearsal: the shadow copy of the live schema differs from it ({}); \
             a saved plan may not recognise the database after its first phase",
            copy_differs.join("; ")
        ));
    }
    // The first checkpoint is the live schema itself, not the copy: that is what a saved plan
    // must find before expand.
    let mut checkpoints = vec![Checkpoint {
        before: Some(Phase::Expand),
        fingerprint: fingerprint(live),
    }];
    let mut first_index = 1;
    for phase in Phase::ALL {
        let steps: Vec<Step> = plan_to_rehearse.steps_in(phase).cloned().collect();
        if !steps.is_empty() {
            if let Err(source) = run_quickly(client, &steps, first_index, &quiet).await {
                if live.unmanaged.is_empty() && live.ignored.is_empty() {
                    return Err(RehearsalError::StepFailed { phase, source });
                }
                // The copy lacks what zdm does not manage yet, and what the scope leaves out:
                // a step may fail for want of one of them, which says nothing about the real
                // plan.
                notes.push(format!(
                    "rehearsal incomplete: phase {phase}, {source}; the shadow copy lacks the objects zdm does not manage yet, \
                     so this may not happen on the live database (a saved plan applies before its first phase only)"
                ));
                return Ok(Rehearsal {
                    checkpoints: Vec::new(),
                    notes,
                });
            }
            first_index += steps.len();
            // A backfill fills rows; the schema it leaves is the one it found.
            if phase != Phase::Backfill {
                model = reader.introspect().await?;
            }
        }
        // A phase without steps leaves the schema where it was (the live one, before expand).
        let fp = if steps.is_empty() || phase == Phase::Backfill {
            checkpoints
                .last()
                .expect("one checkpoint")
                .fingerprint
                .clone()
        } else {
            fingerprint(&model)
        };
        checkpoints.push(Checkpoint {
            before: Phase::ALL.into_iter().find(|p| *p > phase),
            fingerprint: fp,
        });
    }
    crate::workspace::reconcile_equivalent(client, &mut model, desired)
        .await
        .map_err(Box::new)?;
    let remaining: Vec<String> = diff(&model, desired)
        .iter()
        .map(|c| format!("{}: {}", c.object().label(), c.summary()))
        .collect();
    if !remaining.is_empty() {
        return Err(RehearsalError::DoesNotConverge { remaining });
    }
    Ok(Rehearsal { checkpoints, notes })
}

/// Build a copy of the `live` schema in the fresh database `client` is connected to: zdm's
/// own plan from that empty database to the live model (`zdm lint --rewrite` starts there).
pub async fn copy_live(
    client: &tokio_postgres::Client,
    live: &Model,
) -> Result<(), RehearsalError> {
    copy_in(&Reader::of_own_build(client), client, live).await
}

async fn copy_in(
    reader: &Reader<'_>,
    client: &tokio_postgres::Client,
    live: &Model,
) -> Result<(), RehearsalError> {
    // From the fresh database as it is (it has schema public), not from nothing.
    let empty = reader.introspect().await?;
    create_live_roles(client, live).await;
    // The copy grants to and is owned by the live roles: the shadow cluster needs them too.
    crate::load::create_bare_roles(client, &live.roles())
        .await
        .map_err(RehearsalError::Roles)?;
    let mut live = with_live_extension_versions(client, live).await;
    // An event trigger's owner must be a superuser: the shadow's stand-ins for the live
    // roles are not, so the copy's event triggers stay the loader's (not compared below).
    for trigger in live.event_triggers.values_mut() {
        trigger.owner = None;
    }
    let live = &live;
    let copy = plan(&empty, live, &PlanOptions::default()).map_err(RehearsalError::Copy)?;
    run_quickly(client, &copy.steps, 1, &ApplyOptions::default())
        .await
        .map_err(RehearsalError::CopyFailed)
}

/// `live` with each extension pinned to its live version where the shadow server has that
/// version: the copy then holds what the live database holds, and a pinned version in the
/// files is rehearsed as the update it is. (A version the shadow lacks is left to its default:
/// the copy is as close as it can be.)
async fn with_live_extension_versions(client: &tokio_postgres::Client, live: &Model) -> Model {
    let mut live = live.clone();
    let available: std::collections::BTreeSet<(String, String)> = client
        .query(
            "SELECT name::text, version::text FROM pg_catalog.pg_available_extension_versions",
            &[],
        )
        .await
        .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        .unwrap_or_default();
    for extension in live.extensions.values_mut() {
        extension.version_pinned =
            available.contains(&(extension.name.clone(), extension.version.clone()));
    }
    live
}

/// Run `steps` on the shadow database, where nothing else holds a lock: runs of consecutive
/// transactional steps go as one multi-statement query (one implicit transaction, one round
/// trip), the rest one by one through the executor. A group that fails is rolled back whole
/// and run again step by step, so that the error names the step that failed.
async fn run_quickly(
    client: &tokio_postgres::Client,
    steps: &[Step],
    first_index: usize,
    options: &ApplyOptions,
) -> Result<(), ApplyError> {
    let mut at = 0;
    while at < steps.len() {
        let grouped = steps[at..]
            .iter()
            .take_while(|s| s.transactional && s.backfill.is_none())
            .count();
        if grouped == 0 {
            run_steps(
                client,
                &steps[at..=at],
                first_index + at,
                options,
                None,
                &mut |_| {},
            )
            .await?;
            at += 1;
            continue;
        }
        let group = &steps[at..at + grouped];
        let script: Vec<&str> = group.iter().map(|s| s.sql.as_str()).collect();
        if client.batch_execute(&script.join(";\n")).await.is_err() {
            run_steps(client, group, first_index + at, options, None, &mut |_| {}).await?;
        }
        at += grouped;
    }
    Ok(())
}

/// How the rebuilt copy differs from the live model it was built from, one line a change.
fn copy_differences(live: &Model, copy: &Model) -> Vec<String> {
    // Owners count where the live side states them: a live database states every owner, a
    // live side read from files (`--from DIR`) only those the files set, and the copy's other
    // objects are owned by whoever ran it.
    let mut copy = copy.clone();
    copy.owners.retain(|key, _| live.owners.contains_key(key));
    for trigger in copy.event_triggers.values_mut() {
        trigger.owner = live
            .event_triggers
            .get(&trigger.name)
            .and_then(|t| t.owner.clone());
    }
    let copy = &copy;
    if fingerprint(live) == fingerprint(copy) {
        return Vec::new();
    }
    let changes = diff(live, copy);
    if changes.is_empty() {
        // Equal as far as the diff is concerned; the fingerprint sees more detail.
        return vec!["details the diff does not compare".to_string()];
    }
    changes
        .iter()
        .take(5)
        .map(|c| format!("{}: {}", c.object().label(), c.summary()))
        .collect()
}

/// Roles the live policies name, created bare in the shadow cluster when missing (an embedded
/// shadow is another cluster; roles are cluster-wide, never part of the schema). A failure
/// here surfaces as the copy failing, with PostgreSQL's message naming the role.
async fn create_live_roles(client: &tokio_postgres::Client, live: &Model) {
    let mut roles: Vec<&String> = live
        .policies
        .values()
        .flat_map(|p| &p.roles)
        .filter(|r| r.as_str() != crate::model::PUBLIC_ROLE)
        .collect();
    roles.sort();
    roles.dedup();
    for role in roles {
        let sql = format!(
            "DO $zdm$ BEGIN CREATE ROLE {} NOLOGIN; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $zdm$",
            crate::sql::quote_ident(role)
        );
        let _ = client.batch_execute(&sql).await;
    }
}
