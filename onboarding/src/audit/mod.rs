//! `onboarding audit`: the answers auditors ask of the trail (`trail`, `leavers`,
//! `completeness`), of IAM itself (`access`), and one self-contained HTML report. Every export
//! carries a manifest: what was asked, from where, when, how many rows, and the SHA-256 of the
//! rows exactly as written, so an auditor can show a listing is complete and unaltered.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use shared::aws::iam::UserDetail;
use shared::aws::identity_center::IdentityCenter;
use shared::config::{Config, IdentityCenterConfig};

pub use crate::output::Format;
use crate::output::Stop;

mod args;
mod export;
pub mod html;
pub mod reports;
pub(crate) mod source;

pub use args::*;
pub use export::*;
pub use source::*;

use reports::Period;

/// What a report needs from the CLI's global options.
pub struct Env<'a> {
    pub cfg: Result<Config, String>,
    pub now: DateTime<Utc>,
    /// The command line as typed (for the manifest).
    pub command: String,
    pub ctx: Option<&'a shared::steps::Ctx>,
    /// For `audit access` when Identity Center is the target: its config and clients.
    pub identity_center: Option<(IdentityCenterConfig, IdentityCenter, shared::aws::people::People)>,
    /// `--format`.
    pub format: Format,
}

/// Runs `onboarding audit ...`; returns the exit code (0; 1 when the trail is incomplete) or why
/// it stopped (1 when a read failed, 2 for a usage error or an unreadable input).
pub async fn run(args: &AuditArgs, env: &Env<'_>, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Stop> {
    let usage = |e: String| Stop::usage(e);
    let failed = |e: String| Stop::failed(e);
    if let AuditCommand::Access { .. } = &args.report {
        let asked = |source: String, parts: usize, records: usize| Manifest {
            command: env.command.clone(),
            filters: BTreeMap::from([("asOf".to_owned(), shared::lifecycle::stamp(env.now))]),
            source,
            parts,
            records,
            copies_ignored: 0,
            unreadable_lines: 0,
            altered_objects: 0,
            extracted_at: shared::lifecycle::stamp(Utc::now()),
            format: env.format.as_str().into(),
            rows: 0,
            sha256: String::new(),
        };
        if let Some((ic_cfg, ic, people)) = &env.identity_center {
            let (view, accounts) = ic_view(ic_cfg, ic, people).await.map_err(|e| failed(e.to_string()))?;
            let rows = reports::ic_access(&view);
            let source = format!(
                "identity center: ListUsers, ListGroups, ListGroupMemberships, and ListAccountAssignments of every \
                 permission set in the accounts the config assigns to ({}); dynamodb: the people table {}",
                accounts.join(", "),
                ic_cfg.people_table
            );
            let m = asked(source, 5, rows.len());
            write(args, &export(&rows, env.format, None, m), out, err).map_err(failed)?;
            return Ok(crate::output::EXIT_OK);
        }
        let ctx = env.ctx.ok_or_else(|| usage("`audit access` reads IAM: it needs the config".into()))?;
        let rows = access(ctx, env.now).await.map_err(|e| failed(e.to_string()))?;
        let m = asked("iam: credential report and GetAccountAuthorizationDetails".into(), 2, rows.len());
        write(args, &export(&rows, env.format, None, m), out, err).map_err(failed)?;
        return Ok(crate::output::EXIT_OK);
    }
    let source = match (&args.source, &env.cfg) {
        (Some(s), _) => Source::parse(s).map_err(usage)?,
        (None, Ok(cfg)) => {
            Source::configured(cfg).ok_or_else(|| usage("no --source and no `[trail] bucket` in the config".into()))?
        }
        (None, Err(e)) => return Err(usage(format!("no --source, and the config does not load: {e}"))),
    };
    let trail = read(&source, env.cfg.as_ref().ok()).await?;
    let format = env.format;
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
            Ok(crate::output::EXIT_OK)
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
            Ok(crate::output::EXIT_OK)
        }
        AuditCommand::Completeness { period } => {
            let (rows, verdict) = reports::completeness(&trail, period.period());
            let problems = trail.altered.iter().map(|a| format!("altered: {a}\n"));
            let mut footer =
                problems.chain(trail.unreadable.iter().map(|u| format!("unreadable: {u}\n"))).collect::<String>();
            footer.push_str(&verdict.line());
            let m = manifest(env, &trail, &source, period.filters(), format);
            write(args, &export(&rows, format, Some(footer), m), out, err).map_err(failed)?;
            Ok(if verdict.complete { crate::output::EXIT_OK } else { crate::output::EXIT_EVENT_FAILED })
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
            Ok(crate::output::EXIT_OK)
        }
    }
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

/// The configured target's users as [`iam_view`] gives IAM's, for `drift`: on Identity Center
/// [`ic_users`], with no credential report (nobody there holds a password or key this system
/// could see).
pub async fn target_view(ctx: &shared::steps::Ctx) -> Result<IamView, shared::Error> {
    if ctx.identity_center.is_some() {
        return Ok((ic_users(ctx).await?, BTreeMap::new()));
    }
    iam_view(ctx).await
}

/// Every user of the connected identity store as this system sees it
/// (`shared::person::identity_center::as_seen`), with its groups' names and whether this system
/// manages it: what `roster import` and `drift` read, in the shape IAM's users take. Empty when
/// the context is not connected to Identity Center.
pub async fn ic_users(ctx: &shared::steps::Ctx) -> Result<Vec<(UserDetail, bool)>, shared::Error> {
    let Some(t) = &ctx.identity_center else { return Ok(Vec::new()) };
    let store = &t.instance.identity_store_id;
    let users = t.ic.users(store).await?;
    let records = ctx.aws.people.all(&t.people_table).await?;
    let mut groups_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (group_id, name) in t.ic.groups(store).await? {
        for member in t.ic.members(store, &group_id).await? {
            groups_of.entry(member).or_default().push(name.clone());
        }
    }
    let seen = shared::person::identity_center::as_seen(&records, &users);
    Ok(seen
        .into_iter()
        .zip(&users)
        .map(|(user, u)| {
            let mut groups = groups_of.remove(&u.id).unwrap_or_default();
            groups.sort();
            let managed = shared::person::ownership::is_managed(ctx.owner(), &user);
            let detail =
                UserDetail { user, groups, attached_policies: Vec::new(), inline_policies: Vec::new(), created: None };
            (detail, managed)
        })
        .collect())
}

/// Identity Center's view for `audit access`: every user and group of the identity store, each
/// group's members, and the assignments of every permission set in each account the config
/// assigns to (those accounts, returned too, are what the rows cover).
pub async fn ic_view(
    ic_cfg: &IdentityCenterConfig,
    ic: &IdentityCenter,
    people: &shared::aws::people::People,
) -> Result<(reports::IcView, Vec<String>), shared::Error> {
    let instance = ic.instance(ic_cfg).await?;
    let store = &instance.identity_store_id;
    let users = ic.users(store).await?;
    let groups: BTreeMap<String, String> = ic.groups(store).await?.into_iter().collect();
    let mut members = BTreeMap::new();
    for id in groups.keys() {
        members.insert(id.clone(), ic.members(store, id).await?);
    }
    let accounts: std::collections::BTreeSet<String> =
        ic_cfg.assignments.iter().flat_map(|a| a.accounts.iter().cloned()).collect();
    let mut assignments = Vec::new();
    for ps in ic.permission_sets(&instance.arn).await? {
        for account in &accounts {
            for (kind, id) in ic.assignments(&instance.arn, account, &ps.arn).await? {
                assignments.push((ps.name.clone(), account.clone(), kind, id));
            }
        }
    }
    let records = people.all(&ic_cfg.people_table).await?;
    Ok((reports::IcView { users, groups, members, assignments, records }, accounts.into_iter().collect()))
}

/// `audit access`: IAM's view as rows.
async fn access(ctx: &shared::steps::Ctx, now: DateTime<Utc>) -> Result<Vec<reports::Access>, shared::Error> {
    let (users, report) = iam_view(ctx).await?;
    Ok(reports::access(&users, &report, now))
}

#[cfg(test)]
mod tests {
    use super::reports::Row;
    use super::*;
    use serde::Serialize;
    use sha2::{Digest, Sha256};

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
