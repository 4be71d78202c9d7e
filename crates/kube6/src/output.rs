//! Output formats shared by every command that reports.

use clap::ValueEnum;

/// `-o text|json|yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// For people: aligned, colour on a terminal only.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// One YAML document.
    Yaml,
}
