//! `zdm dump`: the live schema written as schema files.

use super::args::{DumpArgs, DumpLayout};
use super::config::Config;
use super::{render, sides, EXIT_CLEAN};
use crate::connect::ConnectionTarget;
use crate::dump::{self, Layout};

pub async fn run(args: DumpArgs) -> anyhow::Result<u8> {
    let config = Config::load(&args.config)?;
    let scope = sides::scope(&args.schemas, &args.ignore, &config)?;
    let target = ConnectionTarget::parse(args.db.as_deref())?;
    let mut side = crate::workspace::read_database(&target).await?;
    scope.apply(&mut side.model);
    let layout = match args.layout {
        DumpLayout::Flat => Layout::Flat,
        DumpLayout::PerSchema => Layout::PerSchema,
        DumpLayout::PerObject => Layout::PerObject,
    };
    let files = dump::files(&side.model, layout);
    if files.is_empty() {
        render::note("the database holds nothing to dump beyond what every new database has");
    }
    let report = dump::write(&args.out, &files)?;
    render::undumped_note(&side.model);
    render::ignored_note(&side.model, &crate::model::Model::default());
    print!("{}", render::dump_report(&args.out, &report));
    Ok(EXIT_CLEAN)
}
