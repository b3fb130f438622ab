//! The command line's grammar: the commands and their options (`clap`), what each is called,
//! whether it writes rows and whether it changes AWS, and `--now`'s check.

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

use crate::audit;
use crate::output::Format;

#[derive(Debug, Parser)]
#[command(
    name = "onboarding",
    version,
    about = "Employee lifecycle on AWS IAM: hires, changes and departures from HR events"
)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, default_value = "onboarding.toml")]
    pub config: PathBuf,
    /// How the result is written on stdout, for every command: text, json (JSON Lines), or csv
    /// (the row reports: `audit`, `drift`, `roster import`). `--output` is the same option.
    #[arg(long, global = true, alias = "output", value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The instant due dates are compared with (RFC 3339, e.g. 2027-02-01T00:00:00Z); default: now.
    /// Never stamped: every action and record carries the real time. Ahead of the clock, a
    /// command that changes AWS needs --allow-future-now (--dry-run, plan and reports do not).
    #[arg(long, global = true, value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// Lets a command that changes AWS act now on what is due by a --now ahead of the clock.
    #[arg(long, global = true)]
    pub allow_future_now: bool,
    /// Proceed even when the mass-departure guard would hold departures back.
    #[arg(long, global = true)]
    pub allow_mass_offboarding: bool,
    /// How many people `run` and `sweep` work on at once (1 to 64); each person's events stay
    /// in input order, and so does the output.
    #[arg(long, global = true, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create what the config names in the target account: topics and the tombstones table; for IAM
    /// users the boundary, groups and policies; for Identity Center the people table, the groups,
    /// permission sets and assignments.
    Bootstrap,
    /// Before a first run: the config, the region and credentials and whose they are, the
    /// endpoint, what `bootstrap` makes (with this version's documents), and against AWS whether
    /// you may do what each command needs (IAM's policy simulator); one line each with what to
    /// do. Reads only; exit 0 only when nothing failed.
    Doctor,
    /// Dry run: show per event what would be created or changed; changes nothing.
    Plan {
        /// Files with one event, a JSON array, or JSON Lines; `-` for stdin.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Process each event through every step of its flow, in order.
    Run {
        /// Files with one event, a JSON array, or JSON Lines; `-` for stdin.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Do what is due: activate pre-hires, disable leavers whose last day ended, delete leavers
    /// whose grace period is over.
    Sweep {
        /// Show what is due; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// HR's front door: answer signed webhooks (Standard Webhooks v1) on `POST /hooks/{source}`
    /// and run accepted events through the pipeline here, until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on (`127.0.0.1:0` picks a free port; the first line says which).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Accepted events waiting for the pipeline, at most; a full queue answers 503.
        #[arg(long, default_value_t = 1024)]
        queue: usize,
    },
    /// Print the webhook headers (or a `curl` command) for a body, signed with a source's secret,
    /// to test an HR integration.
    Sign {
        /// The source (`[[intake.sources]]` name) whose secret signs.
        #[arg(long)]
        source: String,
        /// The `webhook-id`; default: a random `msg_...`.
        #[arg(long)]
        id: Option<String>,
        /// The `webhook-timestamp` (Unix seconds); default: now.
        #[arg(long)]
        timestamp: Option<i64>,
        /// Print a `curl` command posting to this base URL (e.g. https://...lambda-url...on.aws).
        #[arg(long, conflicts_with = "post")]
        curl: Option<String>,
        /// Post it to this plain-HTTP base URL (`onboarding serve`), and print the answer; exit 1
        /// unless it is 2xx. For HTTPS, use `--curl`.
        #[arg(long)]
        post: Option<String>,
        /// The body: `{"type", "timestamp", "data"}`.
        file: String,
    },
    /// What this system knows of each person now, and why: their user (or why there is none),
    /// status and due dates, a held or scheduled departure, each group and the rule that gave
    /// it, console and access keys with their last use, initial credentials waiting, and their
    /// last events from the trail. Reads only.
    Status {
        /// Employee ids, as HR sends them.
        #[arg(required = true)]
        employee_ids: Vec<String>,
        /// Where the trail is (as `audit --source`: `s3://BUCKET[/PREFIX]`, a directory or a JSON
        /// Lines file); default: the config's `[trail] bucket`, else no events are shown.
        #[arg(long)]
        trail: Option<String>,
    },
    /// Auditors' answers: the trail, the leaver SLA, completeness, who has what access, and one
    /// HTML report; each export with a manifest (`onboarding audit --help`).
    Audit(audit::AuditArgs),
    /// Compare HR's roster (CSV with a header, or JSON Lines; the hire contract's fields) with IAM
    /// itself and report the differences; changes nothing without `--fix`. Exit 1 when anything
    /// drifted (with `--fix`: anything left or failed; 3 when the guard held departures).
    Drift {
        #[arg(long)]
        roster: String,
        /// Correct what this system owns: group and tag drift (an `Employee Changed` with the
        /// roster's attributes) and managed users not on the roster (an immediate departure,
        /// under the mass-departure guard); each fix is an audited event of its own.
        #[arg(long)]
        fix: bool,
    },
    /// HR's roster on day one: bring the people who already exist under this system.
    Roster {
        #[command(subcommand)]
        action: RosterAction,
    },
    /// Departures the mass-departure guard holds for an operator.
    Quarantine {
        #[command(subcommand)]
        action: QuarantineAction,
    },
    /// Access reviews: managers attest their people's access (`onboarding review --help`).
    Review {
        #[command(subcommand)]
        action: crate::review::ReviewAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum RosterAction {
    /// Plan per person (the default changes nothing): `create` a user for who has none, `adopt`
    /// the one user made by hand that belongs to the person (by a `userName` column, or by name,
    /// email or employee-id tag: path, boundary, tags and groups as a hire gets them; password,
    /// keys and MFA untouched; no welcome), `managed`, `ambiguous` or `refused`. With `--apply`,
    /// creates and adopts; never disables or deletes. Refused whole when the account's IAM
    /// quotas cannot hold it. Exit 1 when a person is ambiguous, refused or failed.
    Import {
        /// The roster: CSV with a header row, or JSON Lines; the hire contract's fields, and
        /// optionally `userName` (the person's existing user).
        file: String,
        /// Create and adopt as planned.
        #[arg(long, conflicts_with = "dry_run")]
        apply: bool,
        /// Only plan (the default).
        #[arg(long)]
        dry_run: bool,
        /// Only these employees (employee ids, comma-separated), for an adoption in stages; the
        /// whole roster is still read, so a user two people could be stays ambiguous.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuarantineAction {
    /// Every held departure (marked held, or overdue and kept back by the guard).
    List,
    /// Disable them now, past the guard; audited with your identity.
    Release {
        /// Every held departure.
        #[arg(long, conflicts_with = "employees")]
        all: bool,
        /// Employee ids of held departures.
        #[arg(required_unless_present = "all")]
        employees: Vec<String>,
    },
    /// Drop them: the people keep their access (HR sent them in error); audited with your identity.
    Discard {
        /// Employee ids of held departures.
        #[arg(required = true)]
        employees: Vec<String>,
    },
}

impl Command {
    /// The command as typed, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Bootstrap => "bootstrap",
            Command::Doctor => "doctor",
            Command::Plan { .. } => "plan",
            Command::Run { .. } => "run",
            Command::Sweep { .. } => "sweep",
            Command::Serve { .. } => "serve",
            Command::Sign { .. } => "sign",
            Command::Status { .. } => "status",
            Command::Audit(_) => "audit",
            Command::Drift { .. } => "drift",
            Command::Roster { .. } => "roster import",
            Command::Quarantine { .. } => "quarantine",
            Command::Review { .. } => "review",
        }
    }

    /// Whether the command writes rows (every `--format`, csv included) rather than lines.
    pub(crate) fn writes_rows(&self) -> bool {
        matches!(self, Command::Audit(_) | Command::Drift { .. } | Command::Roster { .. } | Command::Review { .. })
    }
}

/// Whether the command changes anything in AWS (a dry run, a plan, a report or a signature does
/// not).
fn changes_aws(command: &Command) -> bool {
    match command {
        Command::Run { .. } | Command::Serve { .. } => true,
        Command::Sweep { dry_run } => !dry_run,
        Command::Drift { fix, .. } => *fix,
        Command::Roster { action: RosterAction::Import { apply, .. } } => *apply,
        Command::Quarantine { action } => !matches!(action, QuarantineAction::List),
        Command::Review { action } => action.changes_aws(),
        Command::Bootstrap
        | Command::Doctor
        | Command::Plan { .. }
        | Command::Sign { .. }
        | Command::Audit(_)
        | Command::Status { .. } => false,
    }
}

/// How far `--now` may be ahead of the clock before it counts as the future (clock skew).
const FUTURE_NOW_SLACK: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// A `--now` ahead of `clock` on a command that changes AWS acts today on everything due by
/// then: refused (`Err`, the reason) unless `--allow-future-now`, and then said (`Ok(Some)`).
pub(crate) fn future_now(cli: &Cli, clock: DateTime<Utc>) -> Result<Option<String>, String> {
    let Some(now) = cli.now.filter(|n| *n > clock + FUTURE_NOW_SLACK) else { return Ok(None) };
    if !changes_aws(&cli.command) {
        return Ok(None);
    }
    let ahead = now - clock;
    let by = if ahead.num_days() > 0 {
        format!("{} days", ahead.num_days())
    } else {
        format!("{} minutes", ahead.num_minutes())
    };
    let stamp = shared::lifecycle::stamp(now);
    if cli.allow_future_now {
        return Ok(Some(format!(
            "note: --now {stamp} is {by} ahead of the clock: this acts today on everything due by then; \
             every action and record carries the real time"
        )));
    }
    Err(format!(
        "--now {stamp} is {by} ahead of the clock, and this command changes AWS: it would act today on \
         everything due by then. See what it would do with --dry-run (or `plan`), or add --allow-future-now"
    ))
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    shared::lifecycle::parse_stamp(s)
        .ok_or_else(|| format!("`{s}` is not an RFC 3339 time; expected e.g. 2027-02-01T00:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("onboarding").chain(args.iter().copied())).expect("arguments")
    }

    #[test]
    fn a_future_now_is_refused_where_the_command_changes_aws_unless_allowed() {
        let clock = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").expect("time").with_timezone(&Utc);
        let future = "2030-06-29T00:00:00Z";
        for writes in [
            vec!["sweep", "--now", future],
            vec!["run", "--now", future, "-"],
            vec!["quarantine", "release", "E1", "--now", future],
            vec!["drift", "--roster", "r.csv", "--fix", "--now", future],
            vec!["roster", "import", "r.csv", "--apply", "--now", future],
        ] {
            let refused = future_now(&cli(&writes), clock).expect_err("refused");
            assert!(refused.contains("1305 days ahead") && refused.contains("--allow-future-now"), "{refused}");
            assert!(refused.contains("--dry-run"), "{refused}");
            let mut allowed = writes.clone();
            allowed.push("--allow-future-now");
            let note = future_now(&cli(&allowed), clock).expect("allowed").expect("a note");
            assert!(note.contains("real time"), "{note}");
        }
        // Nothing to refuse: a dry run, a plan, a report, a list, or a --now in the past (or
        // within a minute of the clock).
        for reads in [
            vec!["sweep", "--dry-run", "--now", future],
            vec!["plan", "--now", future, "-"],
            vec!["quarantine", "list", "--now", future],
            vec!["drift", "--roster", "r.csv", "--now", future],
            vec!["roster", "import", "r.csv", "--now", future],
            vec!["sweep", "--now", "2026-11-01T00:00:00Z"],
            vec!["sweep", "--now", "2026-12-01T12:00:30Z"],
        ] {
            assert_eq!(future_now(&cli(&reads), clock), Ok(None), "{reads:?}");
        }
    }

    #[test]
    fn an_audit_option_works_before_or_after_the_reports_name() {
        for args in [
            vec!["audit", "access", "--format", "csv", "--out", "a.csv"],
            vec!["audit", "--format", "csv", "access", "--out", "a.csv"],
            vec!["audit", "--format", "csv", "--out", "a.csv", "access"],
        ] {
            let cli = cli(&args);
            let Command::Audit(a) = cli.command else { panic!("{args:?} is not audit") };
            assert_eq!(
                (cli.format, a.out.as_deref()),
                (audit::Format::Csv, Some(std::path::Path::new("a.csv"))),
                "{args:?}"
            );
        }
    }

    #[test]
    fn one_format_option_for_every_command_and_output_is_its_other_name() {
        for (args, want) in [
            (vec!["run", "--format", "json", "-"], Format::Json),
            (vec!["--output", "json", "run", "-"], Format::Json),
            (vec!["status", "E1", "--output", "text"], Format::Text),
            (vec!["drift", "--roster", "r.csv", "--format", "csv"], Format::Csv),
            (vec!["roster", "import", "r.csv", "--format", "json"], Format::Json),
            (vec!["quarantine", "list", "--format", "json"], Format::Json),
            (vec!["sign", "--source", "hr", "b.json", "--format", "json"], Format::Json),
        ] {
            assert_eq!(cli(&args).format, want, "{args:?}");
        }
    }
}
