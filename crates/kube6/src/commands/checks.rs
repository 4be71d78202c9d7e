//! `--list-checks` of host check, verify and probe: one catalog, as a table, as the Markdown of
//! its documentation page, or as one JSON/YAML document.

use kube6_catalog::{Catalog, IgnoreSet};

use crate::exit::{CommandResult, Failure, Status};
use crate::output::{self, OutputFormat};

/// Prints the catalog `C` in `format`, or its Markdown table with `markdown`.
pub fn list<C: Catalog>(format: OutputFormat, markdown: bool) -> CommandResult {
    if markdown {
        output::write_stdout(&C::markdown())?;
        return Ok(Status::Ok);
    }
    match format {
        OutputFormat::Text => output::write_stdout(&output::table(&C::rows(), ""))?,
        format => output::print_structured(&C::ALL, format)?,
    }
    Ok(Status::Ok)
}

/// The checks that do not count, from `--ignore CHECK,...` or `--only CHECK,...` (clap keeps the
/// two apart); an unknown check is a usage error.
pub fn ignore_set<C: Catalog>(ignore: &[String], only: &[String]) -> Result<IgnoreSet<C>, Failure> {
    if only.is_empty() {
        IgnoreSet::parse(ignore.iter().map(String::as_str))
    } else {
        IgnoreSet::all_but(only.iter().map(String::as_str))
    }
    .map_err(Failure::usage)
}
