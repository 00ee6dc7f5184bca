use super::args::{Format, SourceArgs};
use super::{render, sides, EXIT_CLEAN, EXIT_DIFFERENCES};

pub async fn run(args: SourceArgs) -> anyhow::Result<u8> {
    if let Some(fleet) = super::fleet::Fleet::from_args(&args).await? {
        return super::fleet::diff(&args, fleet).await;
    }
    let mut sides = sides::read(&args).await?;
    let rows = sides.row_changes().await;
    sides.release().await;
    let rows = rows?;
    let changes = crate::diff::diff(&sides.from.model, &sides.to.model);
    match args.format {
        Format::Json => println!("{}", render::json::diff(&changes, &rows)?),
        Format::Github => {
            let locator = render::github::Locator::new(sides.to.desired.as_ref());
            print!(
                "{}",
                render::github::diff(&sides.from.model, &sides.to.model, &changes, &locator)
            )
        }
        Format::Markdown => print!(
            "{}",
            render::markdown::diff(&sides.from.model, &sides.to.model, &changes)
        ),
        // Only rows differ: no "no differences" line above them.
        Format::Human | Format::Sql if changes.is_empty() && !rows.is_empty() => {}
        Format::Human | Format::Sql => {
            print!(
                "{}",
                render::diff_human(&sides.from.model, &sides.to.model, &changes)
            )
        }
    }
    if !matches!(args.format, Format::Json) {
        for (table, changes) in &rows {
            println!("~ rows of {} (reference data)", table.table);
            println!("    {}", changes.summary());
        }
    }
    Ok(if changes.is_empty() && rows.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_DIFFERENCES
    })
}
