//! `onboarding audit`: the answers auditors ask of the trail (`trail`, `leavers`,
//! `completeness`), of IAM itself (`access`), and one self-contained HTML report. Every export
//! carries a manifest: what was asked, from where, when, how many rows, and the SHA-256 of the
//! rows exactly as written, so an auditor can show a listing is complete and unaltered.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use sha2::{Digest, Sha256};
use shared::audit::Outcome;
use shared::aws::iam::UserDetail;
use shared::config::Config;

pub mod html;
pub mod reports;

use reports::{Period, Row, Trail};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Where the trail is: `s3://BUCKET[/PREFIX]`, a directory of `.jsonl` files, or one JSON
    /// Lines file; default: the bucket in the config's `[trail]`.
    #[arg(long)]
    pub source: Option<String>,
    /// How the rows are written.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the rows to this file (and the manifest beside it, `FILE.manifest.json`), not stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the manifest here; default: beside `--out`, else to stderr.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    #[command(subcommand)]
    pub report: AuditCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }
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
    fn period(&self) -> Period {
        Period { from: Some(self.from), to: Some(self.to) }
    }

    fn filters(&self) -> BTreeMap<String, String> {
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

fn day_or_instant(s: &str, end_of_day: bool) -> Result<DateTime<Utc>, String> {
    if let Some(t) = reports::time(s) {
        return Ok(t);
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is neither a day (YYYY-MM-DD) nor an RFC 3339 time (2026-11-29T10:00:00Z)"))?;
    let day = if end_of_day { day.succ_opt().unwrap_or(day) } else { day };
    Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

fn from_arg(s: &str) -> Result<DateTime<Utc>, String> {
    day_or_instant(s, false)
}

fn to_arg(s: &str) -> Result<DateTime<Utc>, String> {
    day_or_instant(s, true)
}

fn sla_arg(s: &str) -> Result<(TimeDelta, String), String> {
    reports::parse_sla(s).map(|d| (d, s.to_owned()))
}

fn outcome_arg(s: &str) -> Result<Outcome, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
        format!(
            "`{s}` is not an outcome; expected done, already-done, would-do, failed, succeeded, ignored or quarantined"
        )
    })
}

fn as_of_arg(s: &str) -> Result<String, String> {
    match s {
        "now" => Ok(s.to_owned()),
        _ => Err(format!(
            "`{s}`: IAM tells only the present, so `now` is the one value; for the past, read `audit trail`"
        )),
    }
}

/// What an export was, for an auditor to show it is complete and unaltered.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub command: String,
    pub filters: BTreeMap<String, String>,
    pub source: String,
    /// Objects or files read.
    pub parts: usize,
    pub records: usize,
    /// Exact copies of a record (at-least-once delivery) counted once.
    pub copies_ignored: usize,
    pub unreadable_lines: usize,
    /// Object versions whose body differs from the first one written (tampering).
    pub altered_objects: usize,
    pub extracted_at: String,
    pub format: String,
    pub rows: usize,
    /// SHA-256 (hex) of the rows exactly as written: the file `--out` names, or stdout.
    pub sha256: String,
}

/// The rows written in a format: a text table, JSON Lines, or CSV (RFC 4180, header first).
pub fn render<R: Row>(rows: &[R], format: Format) -> String {
    match format {
        Format::Json => rows.iter().map(|r| format!("{}\n", serde_json::to_string(r).unwrap_or_default())).collect(),
        Format::Csv => {
            let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
            let mut written = w.write_record(R::HEADER);
            for r in rows {
                written = written.and_then(|()| w.write_record(r.cells().iter().map(|c| defused(c))));
            }
            // Writing to memory fails only on an I/O error, which memory does not have.
            let bytes = written.ok().and_then(|()| w.into_inner().ok()).unwrap_or_default();
            String::from_utf8(bytes).unwrap_or_default()
        }
        Format::Text => {
            let cells: Vec<Vec<String>> = rows.iter().map(Row::cells).collect();
            let mut width: Vec<usize> = R::HEADER.iter().map(|h| h.chars().count()).collect();
            for row in &cells {
                for (w, c) in width.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |row: &[String]| {
                let padded: Vec<String> = row.iter().zip(&width).map(|(c, w)| format!("{c:<w$}")).collect();
                padded.join("  ").trim_end().to_owned() + "\n"
            };
            let header: Vec<String> = R::HEADER.iter().map(|h| (*h).to_owned()).collect();
            line(&header) + &cells.iter().map(|r| line(r)).collect::<String>()
        }
    }
}

/// A CSV cell a spreadsheet will not run: a leading `=`, `+`, `-`, `@` or control character is
/// escaped with `'` (the writer quotes what holds a comma, quote or line break).
fn defused(c: &str) -> String {
    match c.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{c}"),
        _ => c.to_owned(),
    }
}

pub fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A trail's origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Bucket { bucket: String, prefix: String },
    Path(PathBuf),
}

impl Source {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.strip_prefix("s3://") {
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(format!("`{s}`: expected s3://BUCKET[/PREFIX]"));
                }
                let prefix = if prefix.is_empty() { shared::archive::PREFIX.to_owned() } else { prefix.to_owned() };
                Ok(Source::Bucket { bucket: bucket.to_owned(), prefix })
            }
            None => Ok(Source::Path(PathBuf::from(s))),
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Bucket { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
            Source::Path(p) => p.display().to_string(),
        }
    }
}

/// Reads the trail's parts: every object under the prefix, every `.jsonl` file under a
/// directory (in path order), or the one file.
async fn load(source: &Source, cfg: Option<&Config>) -> Result<Trail, String> {
    let parts = match source {
        Source::Path(p) if p.is_dir() => {
            let mut files = Vec::new();
            collect_jsonl(p, &mut files).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            files.sort();
            let mut parts = Vec::new();
            for f in files {
                let text = std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
                parts.push((f.display().to_string(), text));
            }
            parts
        }
        Source::Path(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            vec![(p.display().to_string(), text)]
        }
        Source::Bucket { bucket, prefix } => {
            let cfg = cfg.ok_or("reading the trail from S3 needs the config (region, endpoint): pass --config")?;
            let sdk = shared::aws::load_sdk_config(cfg, shared::aws::Trust::System).await;
            let b = shared::aws::s3::Bucket::new(&sdk, bucket);
            let mut parts: Vec<(String, String)> = Vec::new();
            let mut altered = Vec::new();
            for (key, version) in b.versions(prefix).await.map_err(|e| e.to_string())? {
                let text = b.text(&key, Some(&version)).await.map_err(|e| e.to_string())?;
                let name = format!("s3://{bucket}/{key}");
                // The first version written is the archiver's; a redelivered batch writes the
                // same body again. Any other body is an alteration: reported, never read.
                match parts.last() {
                    Some((last, first)) if *last == name => {
                        if *first != text {
                            altered.push(format!("{name}: version {version} differs from the first one written"));
                        }
                    }
                    _ => parts.push((name, text)),
                }
            }
            let mut trail = Trail::parse(&parts);
            trail.altered = altered;
            return Ok(trail);
        }
    };
    Ok(Trail::parse(&parts))
}

fn collect_jsonl(dir: &Path, into: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_jsonl(&path, into)?;
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            into.push(path);
        }
    }
    Ok(())
}

/// What a report needs from the CLI's global options.
pub struct Env<'a> {
    pub cfg: Result<Config, String>,
    pub now: DateTime<Utc>,
    /// The command line as typed (for the manifest).
    pub command: String,
    pub ctx: Option<&'a shared::steps::Ctx>,
}

/// One export: the rows and their manifest (without the hash until written).
struct Export {
    body: String,
    manifest: Manifest,
}

fn period_filters(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    if let Some(t) = from {
        f.insert("from".into(), shared::lifecycle::stamp(t));
    }
    if let Some(t) = to {
        f.insert("toExclusive".into(), shared::lifecycle::stamp(t));
    }
    f
}

fn export<R: Row>(rows: &[R], format: Format, footer: Option<String>, manifest: Manifest) -> Export {
    let mut body = render(rows, format);
    if let (Format::Text, Some(f)) = (format, footer) {
        body.push_str(&f);
        body.push('\n');
    }
    Export { manifest: Manifest { rows: rows.len(), sha256: sha256(&body), ..manifest }, body }
}

/// The manifest of an export from a trail.
fn manifest(env: &Env, trail: &Trail, source: &Source, filters: BTreeMap<String, String>, format: Format) -> Manifest {
    Manifest {
        command: env.command.clone(),
        filters,
        source: source.describe(),
        parts: trail.parts,
        records: trail.records.len(),
        copies_ignored: trail.copies,
        unreadable_lines: trail.unreadable.len(),
        altered_objects: trail.altered.len(),
        extracted_at: shared::lifecycle::stamp(Utc::now()),
        format: format.as_str().into(),
        rows: 0,
        sha256: String::new(),
    }
}

/// Runs `onboarding audit ...`; returns the exit code (0, 1 when the trail is incomplete or a
/// read failed, 2 for a usage error).
pub async fn run(args: &AuditArgs, env: Env<'_>, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match run_inner(args, &env, out, err).await {
        Ok(code) => code,
        Err((code, e)) => {
            let _ = writeln!(err, "error: {e}");
            code
        }
    }
}

async fn run_inner(
    args: &AuditArgs,
    env: &Env<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, (u8, String)> {
    let usage = |e: String| (crate::EXIT_USAGE, e);
    let failed = |e: String| (crate::EXIT_EVENT_FAILED, e);
    if let AuditCommand::Access { .. } = &args.report {
        let ctx = env.ctx.ok_or_else(|| usage("`audit access` reads IAM: it needs the config".into()))?;
        let rows = access(ctx, env.now).await.map_err(|e| failed(e.to_string()))?;
        let m = Manifest {
            command: env.command.clone(),
            filters: BTreeMap::from([("asOf".to_owned(), shared::lifecycle::stamp(env.now))]),
            source: "iam: credential report and GetAccountAuthorizationDetails".into(),
            parts: 2,
            records: rows.len(),
            copies_ignored: 0,
            unreadable_lines: 0,
            altered_objects: 0,
            extracted_at: shared::lifecycle::stamp(Utc::now()),
            format: args.format.as_str().into(),
            rows: 0,
            sha256: String::new(),
        };
        write(args, &export(&rows, args.format, None, m), out, err).map_err(failed)?;
        return Ok(crate::EXIT_OK);
    }
    let source = match (&args.source, &env.cfg) {
        (Some(s), _) => Source::parse(s).map_err(usage)?,
        (None, Ok(cfg)) => match &cfg.trail.bucket {
            Some(b) => Source::Bucket { bucket: b.clone(), prefix: shared::archive::PREFIX.into() },
            None => return Err(usage("no --source and no `[trail] bucket` in the config".into())),
        },
        (None, Err(e)) => return Err(usage(format!("no --source, and the config does not load: {e}"))),
    };
    let trail = load(&source, env.cfg.as_ref().ok()).await.map_err(failed)?;
    let format = args.format;
    match &args.report {
        AuditCommand::Access { .. } => Err(usage("`audit access` reads IAM, not the trail".into())),
        AuditCommand::Trail { employee, event, from, to, outcome } => {
            let filter = reports::TrailFilter {
                employee: employee.clone(),
                event: event.clone(),
                period: Period { from: *from, to: *to },
                outcome: *outcome,
            };
            let mut filters = period_filters(*from, *to);
            filters.extend(employee.iter().map(|e| ("employee".to_owned(), e.clone())));
            filters.extend(event.iter().map(|e| ("event".to_owned(), e.clone())));
            filters.extend(outcome.iter().map(|o| ("outcome".to_owned(), o.as_str().to_owned())));
            let rows = reports::trail(&trail, &filter);
            write(args, &export(&rows, format, None, manifest(env, &trail, &source, filters, format)), out, err)
                .map_err(failed)?;
            Ok(crate::EXIT_OK)
        }
        AuditCommand::Leavers { period, sla: SlaArg { sla } } => {
            let rows = reports::leavers(&trail, period.period(), sla.0, &sla.1, env.now);
            let mut filters = period.filters();
            filters.insert("sla".into(), sla.1.clone());
            let breached = rows.iter().filter(|r| r.breached == Some(true)).count();
            let footer = format!("{} departures, {breached} over the {} SLA", rows.len(), sla.1);
            write(
                args,
                &export(&rows, format, Some(footer), manifest(env, &trail, &source, filters, format)),
                out,
                err,
            )
            .map_err(failed)?;
            Ok(crate::EXIT_OK)
        }
        AuditCommand::Completeness { period } => {
            let (rows, verdict) = reports::completeness(&trail, period.period());
            let problems = trail.altered.iter().map(|a| format!("altered: {a}\n"));
            let mut footer =
                problems.chain(trail.unreadable.iter().map(|u| format!("unreadable: {u}\n"))).collect::<String>();
            footer.push_str(&verdict.line());
            let m = manifest(env, &trail, &source, period.filters(), format);
            write(args, &export(&rows, format, Some(footer), m), out, err).map_err(failed)?;
            Ok(if verdict.complete { crate::EXIT_OK } else { crate::EXIT_EVENT_FAILED })
        }
        AuditCommand::Report { html: path, period: args, sla: SlaArg { sla } } => {
            let period = args.period();
            let mut filters = args.filters();
            filters.insert("sla".into(), sla.1.clone());
            let csv = |m: Manifest| Manifest { format: Format::Csv.as_str().into(), ..m };
            let base = manifest(env, &trail, &source, filters, Format::Csv);
            let movements = reports::movements(&trail, period);
            let leavers = reports::leavers(&trail, period, sla.0, &sla.1, env.now);
            let (events, verdict) = reports::completeness(&trail, period);
            let page = html::Page {
                period,
                sla: &sla.1,
                generated_at: env.now,
                movements: &movements,
                movements_manifest: &export(&movements, Format::Csv, None, csv(base.clone())).manifest,
                leavers: &leavers,
                leavers_manifest: &export(&leavers, Format::Csv, None, csv(base.clone())).manifest,
                events: &events,
                verdict: &verdict,
                events_manifest: &export(&events, Format::Csv, None, csv(base)).manifest,
            };
            let body = html::render(&page);
            std::fs::write(path, &body).map_err(|e| failed(format!("cannot write {}: {e}", path.display())))?;
            let breached = leavers.iter().filter(|r| r.breached == Some(true)).count();
            let _ = writeln!(
                out,
                "wrote {} ({} bytes, sha256 {}): {} joiners and movers, {} leavers ({breached} over the {} SLA); {}",
                path.display(),
                body.len(),
                sha256(&body),
                movements.len(),
                leavers.len(),
                sla.1,
                verdict.line()
            );
            Ok(crate::EXIT_OK)
        }
    }
}

/// Writes the rows (to `--out` or `out`) and the manifest (to `--manifest`, beside `--out`, or
/// to stderr).
fn write(args: &AuditArgs, e: &Export, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), String> {
    let manifest = serde_json::to_string_pretty(&e.manifest).unwrap_or_default() + "\n";
    match &args.out {
        Some(path) => {
            std::fs::write(path, &e.body).map_err(|err| format!("cannot write {}: {err}", path.display()))?;
            let m = args.manifest.clone().unwrap_or_else(|| {
                let mut name = path.as_os_str().to_owned();
                name.push(".manifest.json");
                PathBuf::from(name)
            });
            std::fs::write(&m, &manifest).map_err(|err| format!("cannot write {}: {err}", m.display()))?;
            let _ = writeln!(
                out,
                "wrote {} ({} rows, sha256 {}) and its manifest {}",
                path.display(),
                e.manifest.rows,
                e.manifest.sha256,
                m.display()
            );
        }
        None => {
            let _ = out.write_all(e.body.as_bytes());
            match &args.manifest {
                Some(m) => {
                    std::fs::write(m, &manifest).map_err(|err| format!("cannot write {}: {err}", m.display()))?
                }
                None => {
                    let _ = err.write_all(manifest.as_bytes());
                }
            }
        }
    }
    Ok(())
}

/// IAM's own view of the users under the system's path: each with its groups and policies (one
/// paginated authorisation-details read) and whether this system manages it, and the credential
/// report's rows by user name.
pub type IamView = (Vec<(UserDetail, bool)>, BTreeMap<String, BTreeMap<String, String>>);

pub async fn iam_view(ctx: &shared::steps::Ctx) -> Result<IamView, shared::Error> {
    let details = ctx.aws.iam.user_details(&ctx.cfg.iam.user_path).await?;
    let report = reports::credential_report(&ctx.aws.iam.credential_report().await?);
    let users = details
        .into_iter()
        .map(|d| {
            let managed = shared::person::ownership::is_managed(ctx.owner(), &d.user);
            (d, managed)
        })
        .collect();
    Ok((users, report))
}

/// `audit access`: IAM's view as rows.
async fn access(ctx: &shared::steps::Ctx, now: DateTime<Utc>) -> Result<Vec<reports::Access>, shared::Error> {
    let (users, report) = iam_view(ctx).await?;
    Ok(reports::access(&users, &report, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct R(&'static str, &'static str);
    impl Row for R {
        const HEADER: &'static [&'static str] = &["a", "b"];
        fn cells(&self) -> Vec<String> {
            vec![self.0.into(), self.1.into()]
        }
    }

    #[test]
    fn csv_quotes_what_it_must_and_defuses_formulas() {
        let rows = [R("plain", "a,b"), R("say \"hi\"", "two\nlines"), R("=HYPERLINK(\"x\")", "-1")];
        assert_eq!(
            render(&rows, Format::Csv),
            "a,b\r\nplain,\"a,b\"\r\n\"say \"\"hi\"\"\",\"two\nlines\"\r\n\"'=HYPERLINK(\"\"x\"\")\",'-1\r\n"
        );
        assert_eq!(render(&rows[..1], Format::Text), "a      b\nplain  a,b\n");
        assert_eq!(render(&rows[..1], Format::Json), "[\"plain\",\"a,b\"]\n");
    }

    #[test]
    fn an_exports_manifest_hashes_exactly_what_is_written() {
        let m = Manifest {
            command: "c".into(),
            filters: BTreeMap::new(),
            source: "s".into(),
            parts: 1,
            records: 2,
            copies_ignored: 0,
            unreadable_lines: 0,
            altered_objects: 0,
            extracted_at: "t".into(),
            format: "text".into(),
            rows: 0,
            sha256: String::new(),
        };
        let e = export(&[R("x", "y")], Format::Text, Some("1 row".into()), m);
        assert_eq!(e.body, "a  b\nx  y\n1 row\n");
        assert_eq!(e.manifest.sha256, hex::encode(Sha256::digest(e.body.as_bytes())));
        assert_eq!(e.manifest.rows, 1);
    }

    #[test]
    fn arguments_say_what_they_accept() {
        assert_eq!(from_arg("2026-11-29").map(shared::lifecycle::stamp), Ok("2026-11-29T00:00:00Z".into()));
        assert_eq!(to_arg("2026-11-29").map(shared::lifecycle::stamp), Ok("2026-11-30T00:00:00Z".into()));
        assert_eq!(to_arg("2026-11-29T10:00:00Z").map(shared::lifecycle::stamp), Ok("2026-11-29T10:00:00Z".into()));
        assert!(from_arg("29/11/2026").is_err_and(|e| e.contains("YYYY-MM-DD")));
        assert!(outcome_arg("ok").is_err_and(|e| e.contains("already-done")));
        assert!(as_of_arg("2026-01-01").is_err_and(|e| e.contains("`now`")));
        assert_eq!(
            Source::parse("s3://trail").expect("bucket"),
            Source::Bucket { bucket: "trail".into(), prefix: "audit/".into() }
        );
        assert!(Source::parse("s3:///x").is_err());
    }
}
