//! What every command shares below the dispatch: its output format and the meaning of its exit
//! codes (one meaning each, everywhere).

use clap::ValueEnum;

/// Exit codes.
pub const EXIT_OK: u8 = 0;
pub const EXIT_EVENT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
/// The mass-departure guard held departures back: an operator must look (and may rerun with
/// `--allow-mass-offboarding`).
pub const EXIT_QUARANTINED: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}
