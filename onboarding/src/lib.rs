//! The `onboarding` operator CLI: bootstrap an account, plan and run HR events (hires, changes,
//! departures) and the sweep through the same step code the Lambdas run, in process.

use std::io::{Read, Write};

use chrono::Utc;
use shared::aws::{self, Aws};
use shared::config::Config;
use shared::pipeline::{self, EventOutcome};
use shared::steps::{Ctx, Targets};

pub mod audit;
pub mod bootstrap;
mod cli;
pub mod doctor;
pub mod drift;
pub mod input;
pub mod progress;
pub mod render;
pub mod review;
pub mod roster;
pub mod serve;
pub mod status;

pub mod output;

pub use cli::{Cli, Command, QuarantineAction, RosterAction};
pub use output::{EXIT_EVENT_FAILED, EXIT_OK, EXIT_QUARANTINED, EXIT_USAGE, Format, Output, Stop};

use cli::future_now;

/// Runs the CLI; returns the process exit code. Results go to `out`; problems that stop the
/// whole run go to `err`, one line each. Logs go to stderr through `tracing`.
pub async fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match command(&cli, out, err).await {
        Ok(code) => code,
        Err(stop) => {
            let _ = writeln!(err, "error: {}", stop.message);
            stop.code
        }
    }
}

/// Dispatches a command. Everything a command reads (config, inputs) is read before AWS is
/// touched: an unreadable one is a usage error.
async fn command(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Stop> {
    if let Command::Audit(args) = &cli.command {
        return audit_command(cli, args, out, err).await;
    }
    // A line-writing command's format, checked before anything is read (the row reports take
    // `cli.format` as it is).
    let output = if cli.command.writes_rows() { Output::Text } else { cli.format.lines(cli.command.name())? };
    if let Command::Doctor = cli.command {
        // It reads the config itself: a bad one is one of its findings.
        let checks = doctor::doctor(&cli.config).await;
        render::doctor(out, output, &checks);
        return Ok(if checks.iter().any(|c| c.verdict == "failed") { EXIT_EVENT_FAILED } else { EXIT_OK });
    }
    let cfg = Config::load(&cli.config).map_err(Stop::usage)?;
    let inputs = match &cli.command {
        Command::Sign { source, id, timestamp, curl, post, file } => {
            let ts = timestamp.unwrap_or_else(|| cli.now.unwrap_or_else(Utc::now).timestamp());
            let signed = serve::sign(&cfg, source, file, id.as_deref(), ts).map_err(Stop::usage)?;
            return sign_command(&signed, curl.as_deref(), post.as_deref(), output, out).await;
        }
        Command::Plan { files } | Command::Run { files } => read_inputs(files).map_err(Stop::usage)?,
        _ => Vec::new(),
    };
    // `status`'s trail: the one given, else the config's bucket, else none.
    let trail_source = match &cli.command {
        Command::Status { trail: Some(s), .. } => Some(audit::Source::parse(s).map_err(Stop::usage)?),
        Command::Status { trail: None, .. } => audit::Source::configured(&cfg),
        _ => None,
    };
    if let Some(note) = future_now(cli, Utc::now()).map_err(Stop::usage)? {
        let _ = writeln!(err, "{note}");
    }
    if let Command::Bootstrap = cli.command {
        return bootstrap_command(&cfg, output, out).await;
    }
    let (sdk, mut ctx) = connect(cfg).await.map_err(Stop::usage)?;
    ctx.dry_run = matches!(cli.command, Command::Plan { .. } | Command::Sweep { dry_run: true });
    ctx.due_at = cli.now;
    ctx.allow_mass_offboarding = cli.allow_mass_offboarding;
    ctx.concurrency = usize::from(cli.concurrency);
    match &cli.command {
        Command::Sweep { .. } => sweep_command(&ctx, output, out).await,
        Command::Serve { listen, queue } => match serve::serve(ctx, listen, *queue, output, out).await {
            Ok(0) => Ok(EXIT_OK),
            Ok(_) => Ok(EXIT_EVENT_FAILED),
            Err(e) => Err(Stop::usage(e)),
        },
        Command::Drift { roster, fix } => drift_command(&ctx, roster, cli.format, *fix, out).await,
        Command::Roster { action: RosterAction::Import { file, apply, only, .. } } => {
            import_command(&ctx, file, *apply, only, cli.format, out, err).await
        }
        Command::Quarantine { action } => quarantine(&ctx, &sdk, action, output, out).await,
        Command::Review { action } => {
            let command = format!("onboarding {}", std::env::args().skip(1).collect::<Vec<_>>().join(" "));
            review::run(&ctx, &sdk, action, cli.format, &command, out, err).await
        }
        Command::Status { employee_ids, .. } => {
            // Read once the SDK found credentials and the endpoint answers (a bucket needs both).
            let trail = match &trail_source {
                Some(source) => Some(audit::read(source, Some(&ctx.cfg)).await?),
                None => None,
            };
            let people = status::status(&ctx, employee_ids, trail.as_ref()).await.map_err(Stop::failed)?;
            render::status(out, output, &people);
            Ok(EXIT_OK)
        }
        // `plan` and `run` (every other command returned above).
        _ => Ok(events_command(&ctx, inputs, output, out).await),
    }
}

/// `onboarding sign`: prints the signed request, or posts it and prints the answer.
async fn sign_command(
    signed: &serve::Signed,
    curl: Option<&str>,
    post: Option<&str>,
    output: Output,
    out: &mut dyn Write,
) -> Result<u8, Stop> {
    let Some(url) = post else {
        let _ = writeln!(out, "{}", signed.render(curl, output));
        return Ok(EXIT_OK);
    };
    let (status, answer) = serve::post(url, signed).await.map_err(Stop::failed)?;
    let _ = match output {
        Output::Text => writeln!(out, "{status} {answer}"),
        Output::Json => writeln!(out, "{}", serde_json::json!({ "status": status, "answer": answer })),
    };
    Ok(if (200..300).contains(&status) { EXIT_OK } else { EXIT_EVENT_FAILED })
}

/// `onboarding bootstrap`: what the config names, made idempotently (the IAM part, or Identity
/// Center's); exit 1 when any item failed.
async fn bootstrap_command(cfg: &Config, output: Output, out: &mut dyn Write) -> Result<u8, Stop> {
    let sdk = sdk(cfg).await.map_err(Stop::usage)?;
    let clients = Aws::new(&sdk, cfg.retry_policy());
    let made = async {
        let mut items = bootstrap::bootstrap(cfg, &clients).await?;
        if let Some(ic_cfg) = cfg.identity_center_target() {
            let ic = shared::aws::identity_center::IdentityCenter::new(&sdk, ic_cfg.max_tps, cfg.retry_policy());
            items.extend(bootstrap::identity_center::bootstrap(cfg, ic_cfg, &ic).await?);
        }
        Ok::<_, shared::Error>(items)
    };
    let items = made.await.map_err(|e| Stop::failed(format!("bootstrap failed: {e}")))?;
    render::bootstrap(out, output, &items);
    match items.iter().filter(|i| i.error.is_some()).count() {
        0 => Ok(EXIT_OK),
        failed => {
            Err(Stop::failed(format!("bootstrap: {failed} item(s) failed (above); fix them and run bootstrap again")))
        }
    }
}

/// `onboarding sweep`: what is due, done; exit 3 when the guard held a disable.
async fn sweep_command(ctx: &Ctx, output: Output, out: &mut dyn Write) -> Result<u8, Stop> {
    let sweep = shared::drivers::sweep::run(ctx);
    let report = shared::audit::in_delivery(shared::audit::new_delivery_id(), sweep)
        .await
        .map_err(|e| Stop::failed(format!("sweep failed: {e}")))?;
    render::sweep(out, output, &report);
    let held = report.items.iter().any(|i| i.outcome == shared::drivers::sweep::SweepOutcome::Quarantined);
    // Access reviews past their due date close here too (a dry run names them).
    let (reviews, reviews_failed, reviews_held) = sweep_reviews(ctx).await?;
    for line in &reviews {
        let _ = match output {
            Output::Json => writeln!(out, "{}", serde_json::json!({ "review": line })),
            Output::Text => writeln!(out, "access review: {line}"),
        };
    }
    Ok(if report.failed() || reviews_failed {
        EXIT_EVENT_FAILED
    } else if report.quarantined.is_some() || held || reviews_held {
        EXIT_QUARANTINED
    } else {
        EXIT_OK
    })
}

/// The sweep's access reviews: closes those past their due date (a dry run names them); one line
/// each, and whether one failed or was held by the guard.
async fn sweep_reviews(ctx: &Ctx) -> Result<(Vec<String>, bool, bool), Stop> {
    if ctx.dry_run {
        let now = shared::lifecycle::stamp(ctx.due_now());
        let due = ctx.aws.reviews.open_and_due(&ctx.cfg.review.table, &now).await.map_err(Stop::failed)?;
        return Ok((due.iter().map(|c| format!("campaign {c} is due: it would close")).collect(), false, false));
    }
    let closing = shared::drivers::review::close_due(ctx, ctx.due_now());
    let closed = shared::audit::in_delivery(shared::audit::new_delivery_id(), closing)
        .await
        .map_err(|e| Stop::failed(format!("access reviews due could not be closed: {e}")))?;
    let failed = closed.iter().any(|c| !c.failed.is_empty());
    let held = closed.iter().any(|c| c.held);
    Ok((closed.iter().map(|c| c.line()).collect(), failed, held))
}

/// `onboarding plan|run`: the events through their flows; exit 1 when one failed, 3 when the
/// guard held one.
async fn events_command(
    ctx: &Ctx,
    inputs: Vec<Result<serde_json::Value, shared::ValidationError>>,
    output: Output,
    out: &mut dyn Write,
) -> u8 {
    let progress = progress::Progress::new("events");
    let reports = pipeline::run_all_reporting(ctx, inputs, &|done, total| progress.tick(done, total)).await;
    progress.finish();
    for r in &reports {
        render::report(out, output, r);
    }
    if reports.iter().any(|r| r.outcome == EventOutcome::Failed) {
        EXIT_EVENT_FAILED
    } else if reports.iter().any(|r| r.outcome == EventOutcome::Quarantined) {
        EXIT_QUARANTINED
    } else {
        EXIT_OK
    }
}

async fn quarantine(
    ctx: &Ctx,
    sdk: &aws_config::SdkConfig,
    action: &QuarantineAction,
    format: Output,
    out: &mut dyn Write,
) -> Result<u8, Stop> {
    use shared::drivers::quarantine::{self, Decision, Which};
    let (which, decision) = match action {
        QuarantineAction::List => {
            let held = quarantine::list(ctx).await.map_err(Stop::failed)?;
            render::held(out, format, held.iter().map(|(_, h)| h));
            return Ok(EXIT_OK);
        }
        QuarantineAction::Release { all: true, .. } => (Which::All, Decision::Release),
        QuarantineAction::Release { employees, .. } => (Which::Employees(employees.clone()), Decision::Release),
        QuarantineAction::Discard { employees } => (Which::Employees(employees.clone()), Decision::Discard),
    };
    let operator = aws::sts::caller(sdk)
        .await
        .map_err(|e| Stop::failed(format!("cannot tell who you are, and a decision is audited with it: {e}")))?;
    match quarantine::decide(ctx, &which, decision, &operator).await {
        Ok(done) => {
            render::held(out, format, done.iter());
            Ok(if done.iter().any(|h| h.outcome == "failed") { EXIT_EVENT_FAILED } else { EXIT_OK })
        }
        // Employees that are not held: a usage problem, nothing was done.
        Err(e @ shared::Error::Conflict(_)) => Err(Stop::usage(e)),
        Err(e) => Err(Stop::failed(e)),
    }
}

/// `onboarding drift`: the roster's intents against IAM's users (one paginated read and the
/// credential report).
async fn drift_command(ctx: &Ctx, file: &str, format: Format, fix: bool, out: &mut dyn Write) -> Result<u8, Stop> {
    let (people, bad) = read_roster(ctx, file).map_err(Stop::usage)?;
    let intents: Vec<_> = people.into_iter().map(|p| p.intent).collect();
    let mut drifts = drift::bad_rows(&bad);
    let (users, report) = audit::target_view(ctx).await.map_err(Stop::failed)?;
    let keys = report
        .iter()
        .filter(|(_, r)| {
            ["access_key_1_active", "access_key_2_active"].iter().any(|k| r.get(*k).is_some_and(|v| v == "true"))
        })
        .map(|(name, _)| name.clone())
        .collect();
    drifts.extend(drift::compare(&ctx.cfg, &intents, &users, &keys));
    let mut exit = if drifts.iter().any(|d| d.kind != "unmanaged") { EXIT_EVENT_FAILED } else { EXIT_OK };
    if fix {
        let fixes = drift::fixes(&intents, &drifts, ctx.now());
        let progress = progress::Progress::new("fixes");
        let events = fixes.iter().map(|(_, e)| Ok(e.clone())).collect();
        let reports = pipeline::run_all_reporting(ctx, events, &|d, t| progress.tick(d, t)).await;
        progress.finish();
        let outcome: std::collections::BTreeMap<&str, String> = fixes
            .iter()
            .zip(&reports)
            .map(|((employee, _), r)| {
                let o = r.outcome.as_str();
                (employee.as_str(), r.error.as_ref().map(|e| format!("{o}: {e}")).unwrap_or_else(|| o.to_owned()))
            })
            .collect();
        for d in &mut drifts {
            d.fix = match outcome.get(d.employee_id.as_str()) {
                Some(o) if drift::FIXED.contains(&d.kind.as_str()) => o.clone(),
                _ => "report only".into(),
            };
        }
        // After a fix: 0 when every difference was this system's and is fixed.
        let left = drifts.iter().any(|d| d.kind != "unmanaged" && d.fix == "report only");
        exit = if reports.iter().any(|r| r.outcome == EventOutcome::Failed) {
            EXIT_EVENT_FAILED
        } else if reports.iter().any(|r| r.outcome == EventOutcome::Quarantined) {
            EXIT_QUARANTINED
        } else if left {
            EXIT_EVENT_FAILED
        } else {
            EXIT_OK
        };
    }
    let _ = out.write_all(audit::render(&drifts, format).as_bytes());
    Ok(exit)
}

/// A roster file's people and bad rows.
fn read_roster(ctx: &Ctx, file: &str) -> Result<(Vec<roster::Person>, Vec<roster::BadRow>), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    let rows = roster::rows(file, &text)?;
    Ok(roster::people(&ctx.cfg, &rows, &shared::lifecycle::stamp(ctx.now())))
}

/// `onboarding roster import`: reads every user of the account with its groups (one paginated
/// read), the credential report and the quotas; plans; applies creates and adoptions when asked,
/// people side by side as `run` does (one lane per employee, user and user-name base).
async fn import_command(
    ctx: &Ctx,
    file: &str,
    apply: bool,
    only: &[String],
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Stop> {
    let (people, bad) = read_roster(ctx, file).map_err(Stop::usage)?;
    let read = async {
        if ctx.identity_center.is_some() {
            // Every user of the identity store; no IAM quota applies there.
            let users = audit::ic_users(ctx).await?.into_iter().map(|(d, _)| d).collect();
            return Ok::<_, shared::Error>((users, std::collections::BTreeMap::new(), None));
        }
        let users = ctx.aws.iam.user_details("/").await?;
        let credentials = audit::reports::credential_report(&ctx.aws.iam.credential_report().await?);
        let summary = ctx.aws.iam.account_summary().await?;
        Ok((users, credentials, Some(summary)))
    };
    let (users, credentials, summary) = read.await.map_err(Stop::failed)?;
    let account = roster::Account { users: &users, credentials: &credentials };
    let mut plan = roster::select(roster::plan(ctx.owner(), &people, &bad, &account), only).map_err(Stop::usage)?;
    let fits = match &summary {
        Some(summary) => roster::preflight(summary, &plan),
        None => Ok("Identity Center: no IAM quota applies".to_owned()),
    };
    let _ = writeln!(err, "plan: {}; {}", roster::counts(&plan), fits.as_deref().unwrap_or("quotas exceeded"));
    if apply && fits.is_ok() {
        let progress = progress::Progress::new("people");
        roster::apply(ctx, &mut plan, &|d, t| progress.tick(d, t)).await;
        progress.finish();
    }
    let rows: Vec<roster::ImportRow> = plan.into_iter().map(|p| p.row).collect();
    let _ = out.write_all(audit::render(&rows, format).as_bytes());
    // The plan is shown either way; a roster the quotas cannot hold is refused whole.
    fits.map_err(Stop::failed)?;
    Ok(if rows.iter().any(roster::ImportRow::troubled) { EXIT_EVENT_FAILED } else { EXIT_OK })
}

/// `onboarding audit`: works offline from a local trail without a config; reading S3 or IAM
/// needs it.
async fn audit_command(
    cli: &Cli,
    args: &audit::AuditArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Stop> {
    let cfg = Config::load(&cli.config).map_err(|e| e.to_string());
    let now = cli.now.unwrap_or_else(Utc::now);
    let command = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let command = format!("onboarding {}", if command.is_empty() { "audit".into() } else { command });
    let format = cli.format;
    if let audit::AuditCommand::Access { .. } = args.report {
        let cfg = cfg.map_err(Stop::usage)?;
        if let Some(ic_cfg) = cfg.identity_center_target().cloned() {
            let sdk = sdk(&cfg).await.map_err(Stop::usage)?;
            let ic = shared::aws::identity_center::IdentityCenter::new(&sdk, ic_cfg.max_tps, cfg.retry_policy());
            let people = shared::aws::people::People::of(&sdk);
            let identity_center = Some((ic_cfg, ic, people));
            let env = audit::Env { cfg: Ok(cfg), now, command, ctx: None, identity_center, format };
            return audit::run(args, &env, out, err).await;
        }
        let (_, ctx) = connect(cfg).await.map_err(Stop::usage)?;
        let env = audit::Env {
            cfg: Err("in the context".into()),
            now,
            command,
            ctx: Some(&ctx),
            identity_center: None,
            format,
        };
        return audit::run(args, &env, out, err).await;
    }
    audit::run(args, &audit::Env { cfg, now, command, ctx: None, identity_center: None, format }, out, err).await
}

/// The SDK's configuration and the steps' context for `cfg`: clients, and the topics and policies
/// the config names, resolved once.
async fn connect(cfg: Config) -> Result<(aws_config::SdkConfig, Ctx), String> {
    let sdk = sdk(&cfg).await?;
    let clients = Aws::new(&sdk, cfg.retry_policy());
    let targets = Targets::resolve(&cfg, &clients).await.map_err(|e| e.to_string())?;
    let ctx = Ctx::new(cfg, clients, targets).with_identity_center(&sdk).await.map_err(|e| e.to_string())?;
    Ok((sdk, ctx))
}

/// The SDK's configuration for `cfg`, once a region, credentials and the endpoint were found.
async fn sdk(cfg: &Config) -> Result<aws_config::SdkConfig, String> {
    let sdk = aws::load_sdk_config(cfg, aws::Trust::System).await;
    aws::ready(&sdk).await?;
    reachable(&sdk).await?;
    Ok(sdk)
}

/// A custom endpoint (`AWS_ENDPOINT_URL`: an emulator, a VPC endpoint) that does not answer a
/// TCP connect within 3 seconds is said at once, with its address, rather than after the SDK's
/// retries.
async fn reachable(sdk: &aws_config::SdkConfig) -> Result<(), String> {
    let Some(url) = sdk.endpoint_url() else { return Ok(()) };
    let Some((host, port)) = endpoint_address(url) else { return Ok(()) };
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    match tokio::time::timeout(std::time::Duration::from_secs(3), connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("cannot reach the AWS endpoint {url} ({host}:{port}): {e}; check AWS_ENDPOINT_URL")),
        Err(_) => {
            Err(format!("the AWS endpoint {url} ({host}:{port}) did not answer within 3 s; check AWS_ENDPOINT_URL"))
        }
    }
}

/// `host` and `port` of an `http(s)://host[:port][/...]` URL (the scheme's port by default).
fn endpoint_address(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    let default = if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 };
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            Some((host.trim_matches(['[', ']']).to_owned(), port.parse().ok()?))
        }
        _ => Some((authority.trim_matches(['[', ']']).to_owned(), default)),
    }
}

fn read_inputs(files: &[String]) -> Result<Vec<input::Entry>, String> {
    let mut all = Vec::new();
    for f in files {
        let text = if f == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| format!("cannot read stdin: {e}"))?;
            s
        } else {
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {f}: {e}"))?
        };
        all.extend(input::entries(if f == "-" { "stdin" } else { f }, &text));
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("onboarding").chain(args.iter().copied())).expect("arguments")
    }

    /// Through `run`, the one error path: csv for a command that writes lines is a usage error
    /// (exit 2, one `error:` line naming the option and what is accepted), before the config is
    /// read or AWS is touched.
    #[tokio::test]
    async fn csv_for_a_command_that_writes_lines_is_refused_with_what_it_accepts() {
        for args in [
            vec!["run", "--format", "csv", "--config", "/nonexistent/onboarding.toml", "-"],
            vec!["sweep", "--format", "csv", "--config", "/nonexistent/onboarding.toml"],
            vec!["doctor", "--format", "csv", "--config", "/nonexistent/onboarding.toml"],
        ] {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = run(cli(&args), &mut out, &mut err).await;
            let err = String::from_utf8(err).expect("utf-8");
            assert_eq!(code, EXIT_USAGE, "{args:?}: {err}");
            assert!(err.starts_with("error: --format csv: `") && err.contains("writes text or json"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(out.is_empty(), "{args:?}");
        }
    }

    #[test]
    fn an_endpoints_address_is_read_from_its_url() {
        let cases = [
            ("http://127.0.0.1:5000", Some(("127.0.0.1", 5000))),
            ("https://iam.example.internal/path", Some(("iam.example.internal", 443))),
            ("http://localhost", Some(("localhost", 80))),
            ("http://[::1]:4566/", Some(("::1", 4566))),
            ("not a url", None),
        ];
        for (url, want) in cases {
            assert_eq!(endpoint_address(url), want.map(|(h, p)| (h.to_owned(), p)), "{url}");
        }
    }
}
