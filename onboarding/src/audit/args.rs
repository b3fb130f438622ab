//! `onboarding audit`'s arguments: the reports, their period, filters and formats, each
//! parsed with an error that says what it accepts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use clap::{Args, Subcommand};
use shared::audit::Outcome;

use super::reports::{self, Period};

#[derive(Debug, Args)]
pub struct AuditArgs {
    // Global within `audit`: each may come before or after the report's name.
    /// Where the trail is: `s3://BUCKET[/PREFIX]`, a directory of `.jsonl` files, or one JSON
    /// Lines file; default: the bucket in the config's `[trail]`.
    #[arg(long, global = true)]
    pub source: Option<String>,
    /// Write the rows to this file (and the manifest beside it, `FILE.manifest.json`), not stdout.
    #[arg(long, global = true)]
    pub out: Option<PathBuf>,
    /// Write the manifest here; default: beside `--out`, else to stderr.
    #[arg(long, global = true)]
    pub manifest: Option<PathBuf>,
    #[command(subcommand)]
    pub report: AuditCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// The records, in time order.
    Trail {
        #[arg(long)]
        employee: Option<String>,
        #[arg(long)]
        event: Option<String>,
        /// From this day (YYYY-MM-DD, UTC) or instant (RFC 3339).
        #[arg(long, value_parser = from_arg)]
        from: Option<DateTime<Utc>>,
        /// To this day, inclusive (YYYY-MM-DD, UTC), or before this instant (RFC 3339).
        #[arg(long, value_parser = to_arg)]
        to: Option<DateTime<Utc>>,
        /// Only records with this outcome (done, already-done, would-do, failed, succeeded, ignored, quarantined).
        #[arg(long, value_parser = outcome_arg)]
        outcome: Option<Outcome>,
    },
    /// One row per departure due in the period: when access was due to end, when it did, when the
    /// user was deleted, and whether that took longer than the SLA.
    Leavers {
        #[command(flatten)]
        period: PeriodArgs,
        #[command(flatten)]
        sla: SlaArg,
    },
    /// Whether every event of the period ended in exactly one terminal record per delivery;
    /// exit 1 when not.
    Completeness {
        #[command(flatten)]
        period: PeriodArgs,
    },
    /// Every IAM user under the system's path, from IAM itself: status, groups, console access
    /// and MFA, access keys with age and last use, boundary, policies on the user.
    Access {
        /// IAM tells only the present: `now` is the one value (for the past, read `audit trail`).
        #[arg(long, default_value = "now", value_parser = as_of_arg)]
        as_of: String,
    },
    /// One self-contained HTML file for the period: joiners, movers, leavers with the SLA and a
    /// chart of time-to-revoke, completeness, and the manifests.
    Report {
        /// The file to write.
        #[arg(long)]
        html: PathBuf,
        #[command(flatten)]
        period: PeriodArgs,
        #[command(flatten)]
        sla: SlaArg,
    },
}

/// A report's period.
#[derive(Debug, Clone, Args)]
pub struct PeriodArgs {
    /// From this day (YYYY-MM-DD, UTC) or instant (RFC 3339).
    #[arg(long, value_parser = from_arg)]
    pub from: DateTime<Utc>,
    /// To this day, inclusive (YYYY-MM-DD, UTC), or before this instant (RFC 3339).
    #[arg(long, value_parser = to_arg)]
    pub to: DateTime<Utc>,
}

impl PeriodArgs {
    pub(super) fn period(&self) -> Period {
        Period { from: Some(self.from), to: Some(self.to) }
    }

    pub(super) fn filters(&self) -> BTreeMap<String, String> {
        period_filters(Some(self.from), Some(self.to))
    }
}

/// The leaver SLA.
#[derive(Debug, Clone, Args)]
pub struct SlaArg {
    /// The longest acceptable time from due to ended (e.g. 24h, 90m, 2d).
    #[arg(long, default_value = "24h", value_parser = sla_arg)]
    pub sla: (TimeDelta, String),
}

pub(super) fn day_or_instant(s: &str, end_of_day: bool) -> Result<DateTime<Utc>, String> {
    if let Some(t) = reports::time(s) {
        return Ok(t);
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is neither a day (YYYY-MM-DD) nor an RFC 3339 time (2026-11-29T10:00:00Z)"))?;
    let day = if end_of_day { day.succ_opt().unwrap_or(day) } else { day };
    Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

pub(super) fn from_arg(s: &str) -> Result<DateTime<Utc>, String> {
    day_or_instant(s, false)
}

pub(super) fn to_arg(s: &str) -> Result<DateTime<Utc>, String> {
    day_or_instant(s, true)
}

pub(super) fn sla_arg(s: &str) -> Result<(TimeDelta, String), String> {
    reports::parse_sla(s).map(|d| (d, s.to_owned()))
}

pub(super) fn outcome_arg(s: &str) -> Result<Outcome, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
        format!(
            "`{s}` is not an outcome; expected done, already-done, would-do, failed, succeeded, ignored or quarantined"
        )
    })
}

pub(super) fn as_of_arg(s: &str) -> Result<String, String> {
    match s {
        "now" => Ok(s.to_owned()),
        _ => Err(format!(
            "`{s}`: IAM tells only the present, so `now` is the one value; for the past, read `audit trail`"
        )),
    }
}

/// A period as a manifest's filters.
pub(super) fn period_filters(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    if let Some(t) = from {
        f.insert("from".into(), shared::lifecycle::stamp(t));
    }
    if let Some(t) = to {
        f.insert("toExclusive".into(), shared::lifecycle::stamp(t));
    }
    f
}
