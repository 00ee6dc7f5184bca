//! Only superusers may create, alter or drop event triggers (13 to 18): a plan that would
//! change one, against a live role that is not a superuser, is refused before anything runs,
//! at the statement that declares the trigger. The shadow database's loader is a superuser
//! (it had to create them), so what counts is the live role's rights, read here.

use super::WorkspaceError;
use crate::diff::Change;
use crate::model::Model;
use crate::parse::{DesiredSchema, ParseError, ParseErrorKind, ParseErrors};
use crate::sql::quote_ident;

const HELP: &str = "only superusers may create, alter or drop event triggers: run zdm as a superuser, or create the event trigger outside the schema files";

pub async fn check_event_triggers(
    client: &tokio_postgres::Client,
    live: &Model,
    desired_model: &Model,
    desired: &DesiredSchema,
) -> Result<(), WorkspaceError> {
    let mut changes = Vec::new();
    crate::diff::diff_event_triggers(live, desired_model, &mut changes);
    if changes.is_empty() || crate::catalog::can_manage_event_triggers(client).await? {
        return Ok(());
    }
    let role = crate::catalog::current_role(client).await?;
    let mut errors = Vec::new();
    let mut dropped = Vec::new();
    for change in &changes {
        let (name, verb) = match change {
            Change::CreateEventTrigger { trigger } => (&trigger.name, "create"),
            Change::AlterEventTrigger { to, .. } => (&to.name, "alter"),
            Change::DropEventTrigger { trigger } => {
                dropped.push(quote_ident(&trigger.name));
                continue;
            }
            _ => continue,
        };
        let Some(statement) = desired
            .statements
            .iter()
            .filter(|s| s.event_trigger.as_ref() == Some(name))
            .min_by_key(|s| (s.span.file, s.span.start))
        else {
            continue;
        };
        let message = format!(
            "cannot {verb} event trigger {}: the live role {} is not a superuser",
            quote_ident(name),
            quote_ident(&role)
        );
        errors.push(ParseError {
            kind: ParseErrorKind::NeedsSuperuser,
            span: statement.span,
            diagnostic: desired
                .sources
                .diagnostic(statement.span, message)
                .with_help(HELP),
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.span.file, e.span.start));
        return Err(ParseErrors(errors).into());
    }
    Err(WorkspaceError::Refused(format!(
        "cannot drop event trigger {} (the files no longer declare it): the live role {} is not a superuser; {HELP}",
        dropped.join(", "),
        quote_ident(&role)
    )))
}
