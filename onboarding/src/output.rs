//! What every command shares below the dispatch: the one output option (`--format`), the
//! meaning of its exit codes (one meaning each, everywhere), and the one way a command stops
//! with an error ([`Stop`]).

use clap::ValueEnum;

/// Exit codes.
pub const EXIT_OK: u8 = 0;
/// The command ran and something failed (an event, a read, an item).
pub const EXIT_EVENT_FAILED: u8 = 1;
/// A usage, configuration or unreadable-input problem: nothing was done.
pub const EXIT_USAGE: u8 = 2;
/// The mass-departure guard held departures back: an operator must look (and may rerun with
/// `--allow-mass-offboarding`).
pub const EXIT_QUARANTINED: u8 = 3;

/// `--format`: how every command writes its result on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    /// One JSON object per line (JSON Lines).
    Json,
    /// Rows with a header; for the row reports (`audit`, `drift`, `roster import`).
    Csv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }

    /// The format of a command whose result is lines (events, the sweep, a status), not rows:
    /// text or JSON; CSV is refused with what to use instead.
    pub fn lines(self, command: &str) -> Result<Output, Stop> {
        match self {
            Format::Text => Ok(Output::Text),
            Format::Json => Ok(Output::Json),
            Format::Csv => Err(Stop::usage(format!(
                "--format csv: `{command}` writes text or json; csv is for the row reports \
                 (`audit`, `drift`, `roster import`)"
            ))),
        }
    }
}

/// What a line-writing command writes: [`Format`] narrowed by [`Format::lines`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

/// Why a command stopped early: its exit code and the one line an operator reads
/// (`error: ...`), written by `onboarding::run` and nowhere else.
#[derive(Debug)]
pub struct Stop {
    pub code: u8,
    pub message: String,
}

impl Stop {
    /// A usage, configuration or unreadable-input problem (exit 2): nothing was done.
    pub fn usage(e: impl std::fmt::Display) -> Self {
        Self { code: EXIT_USAGE, message: e.to_string() }
    }

    /// The command ran and failed (exit 1).
    pub fn failed(e: impl std::fmt::Display) -> Self {
        Self { code: EXIT_EVENT_FAILED, message: e.to_string() }
    }
}
