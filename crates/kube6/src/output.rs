//! Output shared by every command that reports: the `-o` formats, writing JSON/YAML, aligned
//! tables, and diagnostics for people (quoting the offending line, colour on a terminal only).
//!
//! The one module of the binary that touches stdout and stderr (see the lints in main.rs).
#![allow(clippy::disallowed_methods)]

use std::io::Write;

use anstyle::{AnsiColor, Style};
use clap::ValueEnum;
use kube6_model::diagnostic::{Diagnostic, Severity};
use serde::Serialize;

use crate::exit::Failure;

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

/// Writes `value` as JSON or YAML to stdout.
pub fn print_structured<T: Serialize>(value: &T, format: OutputFormat) -> Result<(), Failure> {
    let text = match format {
        OutputFormat::Json => serde_json::to_string_pretty(value).map_err(Failure::failed)? + "\n",
        OutputFormat::Yaml => serde_saphyr::to_string(value).map_err(Failure::failed)?,
        OutputFormat::Text => return Ok(()),
    };
    write_stdout(&text)
}

/// Writes to stdout, stripping colour when stdout is not a terminal (or NO_COLOR is set).
pub fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut out = anstream::stdout();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`kube6 plan | head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::failed(
            anyhow::Error::new(e).context("cannot write to standard output"),
        )),
    }
}

/// Writes to stderr, stripping colour as for stdout. A closed or full stderr is ignored: there
/// is nowhere left to report it.
pub fn write_stderr(text: &str) {
    let mut err = anstream::stderr();
    let _ = err.write_all(text.as_bytes()).and_then(|_| err.flush());
}

/// `kube6: MESSAGE` on stderr, the one line a failed command ends with.
pub fn error_line(message: &str) {
    write_stderr(&format!("kube6: {message}\n"));
}

/// `kube6: what failed: why: why` on stderr, each cause once (see [`crate::exit::Chain`]).
pub fn error(err: &(dyn std::error::Error + 'static)) {
    error_line(&crate::exit::Chain(err).to_string());
}

/// `kube6: warning: MESSAGE` on stderr: the command goes on.
pub fn warning(message: &str) {
    error_line(&format!("warning: {message}"));
}

/// `note: MESSAGE` on stderr: something the user should know about the output.
pub fn note(message: &str) {
    write_stderr(&format!("note: {message}\n"));
}

/// Where the daemon's log goes (stderr), for `tracing_subscriber`'s `with_writer`.
pub fn log_writer() -> std::io::Stderr {
    std::io::stderr()
}

/// Whether standard error is a terminal (progress lines are redrawn in place only there).
pub fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// Whether the log on stderr may be coloured: a terminal, and no NO_COLOR (as anstream decides
/// for everything else).
pub fn log_colour() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();
pub const RED: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .bold();
pub const YELLOW: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)))
    .bold();
pub const BLUE: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Blue)))
    .bold();
pub const GREEN: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)))
    .bold();

/// `text` in `style`.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// The width of `text` on a terminal: its characters, without colour escapes.
pub fn visible_width(text: &str) -> usize {
    let mut width = 0;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI sequences (`ESC [ ... letter`), as anstyle writes them.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            width += 1;
        }
    }
    width
}

/// Rows aligned in columns, two spaces apart; the first row is the header. Cells may be
/// coloured: the escapes do not count towards the width.
pub fn table(rows: &[Vec<String>], indent: &str) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| visible_width(s))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let mut line = String::from(indent);
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = widths[c].saturating_sub(visible_width(cell));
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        let line = line.trim_end().to_string();
        if i == 0 {
            out.push_str(&paint(BOLD, line));
        } else {
            out.push_str(&line);
        }
        out.push('\n');
    }
    out
}

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
        Severity::Info => BLUE,
    }
}

/// One diagnostic for people: what, where, the offending line with a caret, and the fix.
pub fn render_diagnostic(d: &Diagnostic, file: &str, source: Option<&str>) -> String {
    let mut out = String::new();
    let place = match (d.line, d.column) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        _ => file.to_string(),
    };
    out.push_str(&format!(
        "{}{}\n",
        paint(
            severity_style(d.severity),
            format!("{}[{}]", d.severity, d.id)
        ),
        paint(BOLD, format!(": {}", d.message)),
    ));
    out.push_str(&format!(
        "  {} {place}  {}  ({})\n",
        paint(BLUE, "-->"),
        d.path,
        paint(DIM, format!("enforced by {}", d.enforced_by))
    ));
    if let (Some(line), Some(column), Some(source)) = (d.line, d.column, source)
        && let Some(text) = source.lines().nth(line.saturating_sub(1) as usize)
    {
        let number = line.to_string();
        let gutter = " ".repeat(number.len());
        let caret_pad: String = text
            .chars()
            .take(column.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        out.push_str(&format!("  {gutter} {}\n", paint(BLUE, "|")));
        out.push_str(&format!(
            "  {} {} {}\n",
            paint(BLUE, &number),
            paint(BLUE, "|"),
            text
        ));
        out.push_str(&format!(
            "  {gutter} {} {caret_pad}{}\n",
            paint(BLUE, "|"),
            paint(severity_style(d.severity), "^")
        ));
    }
    out.push_str(&format!("  {} {}\n", paint(GREEN, "fix:"), d.hint));
    out
}

/// "2 errors, 1 warning" (or "no problems").
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let count = |s: Severity| diagnostics.iter().filter(|d| d.severity == s).count();
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let mut parts = Vec::new();
    for (severity, word) in [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Info, "note"),
    ] {
        let n = count(severity);
        if n > 0 {
            parts.push(plural(n, word));
        }
    }
    if parts.is_empty() {
        "no problems".to_string()
    } else {
        parts.join(", ")
    }
}

/// A progress display on stderr: on a terminal one line rewritten in place, elsewhere (a log, CI)
/// a line only when the text changes. Permanent lines (what was created) go above it.
pub struct Progress {
    tty: bool,
    shown: bool,
    last: String,
}

impl Progress {
    pub fn new() -> Progress {
        use std::io::IsTerminal;
        Progress {
            tty: std::io::stderr().is_terminal(),
            shown: false,
            last: String::new(),
        }
    }

    fn clear(&mut self) {
        if self.tty && self.shown {
            write_stderr("\r\x1b[2K");
            self.shown = false;
        }
    }

    /// A line that stays.
    pub fn line(&mut self, text: &str) {
        self.clear();
        write_stderr(&format!("{text}\n"));
        if self.tty && !self.last.is_empty() {
            let last = std::mem::take(&mut self.last);
            self.update(&last);
        }
    }

    /// The current state, replacing the previous one.
    pub fn update(&mut self, text: &str) {
        if self.tty {
            self.clear();
            write_stderr(&paint(DIM, text));
            self.shown = true;
            self.last = text.to_string();
        } else if text != self.last {
            write_stderr(&format!("{text}\n"));
            self.last = text.to_string();
        }
    }

    /// Ends the display (the transient line is removed).
    pub fn finish(&mut self) {
        self.clear();
        self.last.clear();
    }
}

impl Default for Progress {
    fn default() -> Progress {
        Progress::new()
    }
}
