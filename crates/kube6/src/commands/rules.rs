//! `kube6 rules`: every rule kube6 checks.

use kube6_model::rules::catalog;

use crate::exit::{CommandResult, Status};
use crate::output::{self, OutputFormat, table};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: OutputFormat,
    /// Print docs/rules.md (a Markdown table) instead.
    #[arg(long, conflicts_with = "output")]
    pub markdown: bool,
}

pub fn run(args: Args) -> CommandResult {
    if args.markdown {
        output::write_stdout(&catalog::markdown())?;
        return Ok(Status::Ok);
    }
    match args.output {
        OutputFormat::Text => {
            let mut rows = vec![vec![
                "id".to_string(),
                "severity".to_string(),
                "enforced by".to_string(),
                "applies to".to_string(),
                "what it checks".to_string(),
            ]];
            for rule in catalog::ALL {
                rows.push(vec![
                    rule.id.to_string(),
                    rule.severity.to_string(),
                    rule.enforced_by.to_string(),
                    rule.applies_to.to_string(),
                    rule.summary.to_string(),
                ]);
            }
            output::write_stdout(&table(&rows, ""))?;
        }
        format => output::print_structured(&catalog::ALL, format)?,
    }
    Ok(Status::Ok)
}
