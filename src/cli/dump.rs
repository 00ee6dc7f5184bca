//! `zdm dump`: the live schema written as schema files.

use super::args::{DumpArgs, DumpLayout};
use super::config::Config;
use super::{render, sides, EXIT_CLEAN};
use std::collections::BTreeMap;

use anyhow::bail;

use crate::connect::ConnectionTarget;
use crate::dump::{self, Layout};
use crate::model::QualifiedName;

pub async fn run(args: DumpArgs) -> anyhow::Result<u8> {
    let config = Config::load(&args.config)?;
    let scope = sides::scope(&args.schemas, &args.ignore, &config)?;
    let target = ConnectionTarget::parse(args.db.as_deref())?;
    let client = target.connect().await?;
    let mut side = crate::workspace::read_client(&client).await?;
    scope.apply(&mut side.model);
    let data = table_rows(&client, &side.model, &args.data).await?;
    let layout = match args.layout {
        DumpLayout::Flat => Layout::Flat,
        DumpLayout::PerSchema => Layout::PerSchema,
        DumpLayout::PerObject => Layout::PerObject,
    };
    let files = dump::files_with_data(&side.model, layout, &data);
    if files.is_empty() {
        render::note("the database holds nothing to dump beyond what every new database has");
    }
    let report = dump::write(&args.out, &files)?;
    render::undumped_note(&side.model);
    render::ignored_note(&side.model, &crate::model::Model::default());
    print!("{}", render::dump_report(&args.out, &report));
    Ok(EXIT_CLEAN)
}

/// The `INSERT` of each `--data` table's rows, by table.
async fn table_rows(
    client: &tokio_postgres::Client,
    model: &crate::model::Model,
    names: &[String],
) -> anyhow::Result<BTreeMap<QualifiedName, String>> {
    let mut out = BTreeMap::new();
    for name in names {
        let parts = crate::sql::split_qualified_name(name)
            .map_err(|e| anyhow::anyhow!("--data {name}: {e}"))?;
        let qualified = match parts.as_slice() {
            [table] => QualifiedName::new("public", table.clone()),
            [schema, table] => QualifiedName::new(schema.clone(), table.clone()),
            _ => bail!("--data {name}: expected [schema.]table"),
        };
        let Some(table) = model.tables.get(&qualified) else {
            bail!("--data {name}: no table {qualified} in the dump");
        };
        let Some(data_table) = crate::data::DataTable::of(table) else {
            bail!("--data {name}: {qualified} has no primary key, and zdm matches reference rows by it");
        };
        let rows = crate::data::read_rows(client, &data_table, Some(&data_table.columns)).await?;
        match crate::data::insert_statement(&data_table, &rows) {
            Some(insert) => {
                out.insert(qualified, insert);
            }
            None => render::note(&format!(
                "--data {name}: {qualified} has no rows; it is not marked as reference data"
            )),
        }
    }
    Ok(out)
}
