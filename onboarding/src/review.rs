//! `onboarding review start|status|remind|close|report`: access reviews. `start` reads every
//! managed person's access from IAM (groups and what they grant, console access, access keys
//! with their last use, policies on the user), freezes it as the campaign's items with a
//! manifest (SHA-256 of the population), stores it (the `[review] table`), writes the population
//! to the trail bucket (Object Lock) when there is one, and sends each reviewer their link.
//! Decisions come through `onboarding serve`'s `/reviews/` page and API
//! (`shared::drivers::review::api`); `close` settles and revokes (`shared::drivers::review`); `report` is
//! the evidence pack.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use clap::Subcommand;
use serde::Serialize;
use shared::config::Links;
use shared::review::{self, Campaign, Decision, Grant, Holding, Item, Population, Status};
use shared::steps::Ctx;

use crate::audit::reports::Row;
use crate::audit::{Format, Manifest, export, write_to};
use crate::output::{EXIT_EVENT_FAILED, EXIT_OK, EXIT_QUARANTINED, Stop};

#[derive(Debug, Subcommand)]
pub enum ReviewAction {
    /// Freeze every managed person's access as a campaign's items, one per grant, each for the
    /// person's manager (`[review] fallback_reviewer` when they have none or it is themself),
    /// and send each reviewer their link. Starting a campaign that exists changes nothing.
    Start {
        /// The campaign's name: 1-64 characters of a-z, 0-9 and -, e.g. 2026-q4.
        #[arg(long, value_parser = campaign_arg)]
        campaign: String,
        /// How long reviewers have, in days (`14d` or `14`); default `[review] due_days`.
        #[arg(long, value_parser = days_arg)]
        due: Option<u32>,
        /// What an undecided item becomes at close.
        #[arg(long, default_value = "keep", value_parser = decision_arg)]
        default: Decision,
    },
    /// Progress per reviewer.
    Status {
        #[arg(value_parser = campaign_arg)]
        campaign: String,
    },
    /// Send the link again to each reviewer with undecided items.
    Remind {
        #[arg(value_parser = campaign_arg)]
        campaign: String,
    },
    /// Stop decisions; give undecided items the default; carry out every revoke through the
    /// audited path (unless more than `[review] max_revoke_percent` of the people would lose
    /// access: then held, exit 3, until rerun with --allow-mass-offboarding). Rerun after a
    /// failure: it carries on.
    Close {
        #[arg(value_parser = campaign_arg)]
        campaign: String,
    },
    /// The evidence pack: every item with its reviewer, decision, reason, time, outcome and the
    /// revocation read back; its manifest carries the population's SHA-256. Also written to the
    /// trail bucket (Object Lock) when the config names one.
    Report {
        #[arg(value_parser = campaign_arg)]
        campaign: String,
        /// Write the rows here (and the manifest beside it, `FILE.manifest.json`), not stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write the frozen population (JSON Lines, exactly what its SHA-256 is of) here.
        #[arg(long)]
        population: Option<PathBuf>,
        /// Also write a self-contained HTML page of the pack here.
        #[arg(long)]
        html: Option<PathBuf>,
    },
}

impl ReviewAction {
    pub(crate) fn changes_aws(&self) -> bool {
        matches!(self, ReviewAction::Start { .. } | ReviewAction::Remind { .. } | ReviewAction::Close { .. })
    }
}

fn campaign_arg(s: &str) -> Result<String, String> {
    review::campaign_name(s).map_err(|e| e.message)
}

fn days_arg(s: &str) -> Result<u32, String> {
    let n = s.strip_suffix('d').unwrap_or(s);
    n.parse::<u32>()
        .ok()
        .filter(|d| (1..=365).contains(d))
        .ok_or_else(|| format!("`{s}` is not a number of days; expected e.g. 14d (1 to 365)"))
}

fn decision_arg(s: &str) -> Result<Decision, String> {
    s.parse()
}

/// Runs a `review` action; returns the exit code.
pub async fn run(
    ctx: &Ctx,
    sdk: &aws_config::SdkConfig,
    action: &ReviewAction,
    format: Format,
    command: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Stop> {
    let table = &ctx.cfg.review.table;
    let campaign_of = |name: &str| {
        let name = name.to_owned();
        async move {
            match ctx.aws.reviews.campaign(table, &name).await {
                Ok(Some(c)) => Ok(c),
                Ok(None) => Err(Stop::usage(format!("no campaign `{name}`: start it with `onboarding review start`"))),
                Err(e) => Err(Stop::failed(e)),
            }
        }
    };
    match action {
        ReviewAction::Start { campaign, due, default } => {
            // Locally, the key and the page's address are needed before anything is written.
            let local = match ctx.cfg.review.links {
                Links::Cli => Some(links(ctx)?),
                Links::Function => None,
            };
            let now = ctx.now();
            let due = now + TimeDelta::days(i64::from(due.unwrap_or(ctx.cfg.review.due_days)));
            let (campaign, frozen) = freeze(ctx, campaign, due, *default, now).await?;
            let created = ctx.aws.reviews.create(table, &campaign, &frozen).await.map_err(Stop::failed)?;
            if !created {
                let _ = writeln!(
                    out,
                    "campaign {} exists: nothing changed (`onboarding review remind {}` sends the links again)",
                    campaign.name, campaign.name
                );
                return Ok(EXIT_OK);
            }
            if let Some(bucket) = &ctx.cfg.trail.bucket {
                let lines = review::population_lines(&frozen);
                lock(sdk, ctx, bucket, &format!("reviews/{}/population.jsonl", campaign.name), lines).await?;
            }
            let told = send_links(ctx, &campaign, local.as_ref(), false).await?;
            let p = &campaign.population;
            let _ = writeln!(
                out,
                "campaign {} started: {} items for {} people, {told}; due {}; population sha256 {}",
                campaign.name, p.items, p.people, campaign.due, p.sha256
            );
            Ok(EXIT_OK)
        }
        ReviewAction::Status { campaign } => {
            let c = campaign_of(campaign).await?;
            let items = ctx.aws.reviews.items(table, &c.name).await.map_err(Stop::failed)?;
            let rows: Vec<Progress> = review::progress(&items)
                .into_iter()
                .map(|(reviewer, decided, total)| Progress { reviewer, decided, total, undecided: total - decided })
                .collect();
            let _ = out.write_all(crate::audit::render(&rows, format).as_bytes());
            if format == Format::Text {
                let decided: usize = rows.iter().map(|r| r.decided).sum();
                let total: usize = rows.iter().map(|r| r.total).sum();
                let _ = writeln!(
                    out,
                    "campaign {} {}: {decided} of {total} decided; due {}",
                    c.name,
                    c.status.as_str(),
                    c.due
                );
            }
            Ok(EXIT_OK)
        }
        ReviewAction::Remind { campaign } => {
            let c = campaign_of(campaign).await?;
            if c.status != Status::Open {
                return Err(Stop::usage(format!(
                    "campaign {} is {}: nobody can decide any more",
                    c.name,
                    c.status.as_str()
                )));
            }
            let local = match ctx.cfg.review.links {
                Links::Cli => Some(links(ctx)?),
                Links::Function => None,
            };
            let told = send_links(ctx, &c, local.as_ref(), true).await?;
            let _ = writeln!(out, "campaign {}: {told}", c.name);
            Ok(EXIT_OK)
        }
        ReviewAction::Close { campaign } => {
            campaign_of(campaign).await?;
            let closed = shared::drivers::review::close(ctx, campaign, ctx.now()).await.map_err(Stop::failed)?;
            for (id, proof) in &closed.revoked {
                let _ = writeln!(out, "revoked {id}: {proof}");
            }
            for (id, e) in &closed.failed {
                let _ = writeln!(err, "failed {id}: {e}");
            }
            let _ = writeln!(out, "{}", closed.line());
            Ok(if !closed.failed.is_empty() {
                EXIT_EVENT_FAILED
            } else if closed.held {
                let _ = writeln!(
                    err,
                    "held: more than [review] max_revoke_percent of the people would lose access; check the \
                     decisions, then rerun with --allow-mass-offboarding"
                );
                EXIT_QUARANTINED
            } else {
                EXIT_OK
            })
        }
        ReviewAction::Report { campaign, out: path, population, html } => {
            let c = campaign_of(campaign).await?;
            let items = ctx.aws.reviews.items(table, &c.name).await.map_err(Stop::failed)?;
            let rows: Vec<Evidence> = items.iter().map(Evidence::of).collect();
            let manifest = manifest(&c, command, format);
            let e = export(&rows, format, None, manifest);
            write_to(path.as_deref(), None, &e, out, err).map_err(Stop::failed)?;
            let frozen: Vec<_> = items.iter().map(|i| i.frozen.clone()).collect();
            let lines = review::population_lines(&frozen);
            if review::sha256_hex(&lines) != c.population.sha256 {
                return Err(Stop::failed(format!(
                    "campaign {}: the stored items no longer hash to the population's sha256: the store was altered",
                    c.name
                )));
            }
            if let Some(p) = population {
                std::fs::write(p, &lines).map_err(|e| Stop::failed(format!("cannot write {}: {e}", p.display())))?;
            }
            if let Some(h) = html {
                let page = html_page(&c, &items, &e.manifest);
                std::fs::write(h, &page).map_err(|e| Stop::failed(format!("cannot write {}: {e}", h.display())))?;
            }
            if let Some(bucket) = &ctx.cfg.trail.bucket {
                let at = shared::lifecycle::stamp(Utc::now());
                let stem = format!("reviews/{}/evidence-{at}", c.name);
                lock(
                    sdk,
                    ctx,
                    bucket,
                    &format!(
                        "{stem}.{}",
                        match format {
                            Format::Csv => "csv",
                            Format::Json => "jsonl",
                            Format::Text => "txt",
                        }
                    ),
                    e.body.clone(),
                )
                .await?;
                let m = serde_json::to_string_pretty(&e.manifest).unwrap_or_default();
                lock(sdk, ctx, bucket, &format!("{stem}.manifest.json"), m).await?;
            }
            Ok(EXIT_OK)
        }
    }
}

/// Sends the reviewers' links: signed here with the local key, or asked of the deployed
/// `reviews` function (which alone reads the key). Says what was done.
async fn send_links(
    ctx: &Ctx,
    campaign: &Campaign,
    local: Option<&(review::token::Key, String)>,
    reminder: bool,
) -> Result<String, Stop> {
    match local {
        Some((key, base)) => {
            let told =
                shared::drivers::review::notify(ctx, campaign, key, base, reminder).await.map_err(Stop::failed)?;
            Ok(format!("{} reviewers told", told.len()))
        }
        None => {
            let at = shared::lifecycle::stamp(Utc::now());
            ctx.aws
                .reviews
                .request_links(&ctx.cfg.review.table, &campaign.name, reminder, &at)
                .await
                .map_err(Stop::failed)?;
            Ok("links asked of the reviews function".into())
        }
    }
}

/// The review key and the page's address, which every link needs.
fn links(ctx: &Ctx) -> Result<(review::token::Key, String), Stop> {
    let key = review::token::Key::local(&ctx.cfg.review).map_err(Stop::usage)?;
    let base = ctx.cfg.review.base_url.clone().ok_or_else(|| {
        Stop::usage(
            "review.base_url: set where reviewers open their page (`onboarding serve`'s address, or the Function URL)",
        )
    })?;
    Ok((key, base))
}

/// Writes one object to the trail bucket, locked like the trail's own.
async fn lock(sdk: &aws_config::SdkConfig, ctx: &Ctx, bucket: &str, key: &str, body: String) -> Result<(), Stop> {
    let b = shared::aws::s3::Bucket::new(sdk, bucket);
    let until = Utc::now() + TimeDelta::days(i64::from(ctx.cfg.trail.retention_days));
    let content_type = if key.ends_with(".json") { "application/json" } else { "text/plain; charset=utf-8" };
    b.put_locked(key, body, content_type, until)
        .await
        .map_err(|e| Stop::failed(format!("the evidence could not be locked in the trail: {e}")))
}

/// On Identity Center: every managed person's group memberships, each with the permission sets
/// and accounts the group is assigned (the accounts the config assigns to).
async fn ic_holdings(ctx: &Ctx) -> Result<(Vec<Holding>, String), Stop> {
    let (Some(t), Some(ic_cfg)) = (&ctx.identity_center, ctx.cfg.identity_center_target()) else {
        return Err(Stop::usage("not connected to Identity Center"));
    };
    let users = crate::audit::ic_users(ctx).await.map_err(Stop::failed)?;
    let (view, accounts) = crate::audit::ic_view(ic_cfg, &t.ic, &ctx.aws.people).await.map_err(Stop::failed)?;
    let mut grants_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (ps, account, kind, id) in &view.assignments {
        if *kind == shared::aws::identity_center::Principal::Group
            && let Some(name) = view.groups.get(id)
        {
            grants_of.entry(name.as_str()).or_default().push(format!("{ps} in {account}"));
        }
    }
    let mut people = Vec::new();
    for (d, _) in users.iter().filter(|(_, managed)| *managed) {
        let since = d.user.tags.get(shared::tags::START_DATE).cloned();
        let grants = d
            .groups
            .iter()
            .map(|g| {
                let what = grants_of.get(g.as_str()).map_or("no permission set assigned".into(), |p| p.join(", "));
                (Grant::Group, g.clone(), format!("grants {what}"), since.clone(), None)
            })
            .collect();
        people.extend(Holding::of(&d.user.name, &d.user.tags, grants));
    }
    let source = format!(
        "identity center: ListUsers, ListGroups, ListGroupMemberships, ListAccountAssignments in the accounts the \
         config assigns to ({}); dynamodb: the people table {}. Direct user assignments are not reviewed \
         (this system assigns only groups)",
        accounts.join(", "),
        ic_cfg.people_table
    );
    Ok((people, source))
}

/// Every managed person's access (IAM users, or Identity Center), frozen as a campaign.
async fn freeze(
    ctx: &Ctx,
    name: &str,
    due: DateTime<Utc>,
    default: Decision,
    now: DateTime<Utc>,
) -> Result<(Campaign, Vec<review::Frozen>), Stop> {
    let (people, source) = match ctx.identity_center {
        Some(_) => ic_holdings(ctx).await?,
        None => iam_holdings(ctx).await?,
    };
    let frozen =
        review::freeze(name, &people, ctx.cfg.review.fallback_reviewer.as_deref()).map_err(|e| Stop::usage(e.0))?;
    let lines = review::population_lines(&frozen);
    let population = Population {
        source,
        extracted_at: shared::lifecycle::stamp(now),
        filters: BTreeMap::from([
            ("target".to_owned(), ctx.cfg.target.kind.as_str().to_owned()),
            ("managed".to_owned(), "true".to_owned()),
        ]),
        people: people.len(),
        items: frozen.len(),
        sha256: review::sha256_hex(&lines),
    };
    let campaign = Campaign {
        name: name.to_owned(),
        status: Status::Open,
        started_at: shared::lifecycle::stamp(now),
        due: shared::lifecycle::stamp(due),
        default,
        max_revoke_percent: ctx.cfg.review.max_revoke_percent,
        population,
        closed_at: None,
    };
    Ok((campaign, frozen))
}

/// Every managed IAM user's access: groups (and what they grant), console access, access keys
/// with their last use, policies on the user.
async fn iam_holdings(ctx: &Ctx) -> Result<(Vec<Holding>, String), Stop> {
    let iam = &ctx.aws.iam;
    let (users, report) = crate::audit::iam_view(ctx).await.map_err(Stop::failed)?;
    let mut granted: BTreeMap<String, String> = BTreeMap::new();
    let mut people = Vec::new();
    for (d, _) in users.iter().filter(|(_, managed)| *managed) {
        let u = &d.user;
        if !u.tags.contains_key(shared::tags::EMPLOYEE_ID) {
            continue;
        }
        let since = d.created.map(shared::lifecycle::stamp);
        let row = report.get(&u.name);
        let cell = |k: &str| {
            row.and_then(|r| r.get(k))
                .filter(|v| !matches!(v.as_str(), "" | "N/A" | "no_information" | "not_supported"))
                .cloned()
        };
        let mut grants = Vec::new();
        for g in &d.groups {
            if !granted.contains_key(g) {
                let policies = iam.group_policies(g).await.map_err(Stop::failed)?;
                let what = if policies.is_empty() {
                    "no policies".to_owned()
                } else {
                    format!("grants {}", policies.join(", "))
                };
                granted.insert(g.clone(), what);
            }
            grants.push((Grant::Group, g.clone(), granted[g].clone(), since.clone(), None));
        }
        if cell("password_enabled").as_deref() == Some("true") {
            let detail = format!("MFA {}", if cell("mfa_active").as_deref() == Some("true") { "on" } else { "off" });
            grants.push((
                Grant::Console,
                String::new(),
                detail,
                cell("password_last_changed").or(since.clone()),
                cell("password_last_used"),
            ));
        }
        for k in iam.access_keys(&u.name).await.map_err(Stop::failed)? {
            let used = iam.access_key_last_used(&k.id).await.map_err(Stop::failed)?.map(shared::lifecycle::stamp);
            let detail = if k.active { "active" } else { "inactive" }.to_owned();
            grants.push((Grant::AccessKey, k.id.clone(), detail, None, used));
        }
        for p in &d.attached_policies {
            grants.push((
                Grant::Policy,
                p.clone(),
                "a managed policy on the user, outside the groups".into(),
                None,
                None,
            ));
        }
        for p in &d.inline_policies {
            grants.push((
                Grant::InlinePolicy,
                p.clone(),
                "an inline policy on the user, outside the groups".into(),
                None,
                None,
            ));
        }
        people.extend(Holding::of(&u.name, &u.tags, grants));
    }
    let source = format!(
        "iam: GetAccountAuthorizationDetails (users under {}), the credential report, ListAccessKeys, \
         GetAccessKeyLastUsed, ListAttachedGroupPolicies, ListGroupPolicies",
        ctx.cfg.iam.user_path
    );
    Ok((people, source))
}

/// `review status`'s row.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Progress {
    reviewer: String,
    decided: usize,
    undecided: usize,
    total: usize,
}

impl Row for Progress {
    const HEADER: &'static [&'static str] = &["reviewer", "decided", "undecided", "total"];
    fn cells(&self) -> Vec<String> {
        vec![self.reviewer.clone(), self.decided.to_string(), self.undecided.to_string(), self.total.to_string()]
    }
}

/// `review report`'s row: one item, what became of it, and the proof.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Evidence {
    id: String,
    employee_id: String,
    user_name: String,
    access: &'static str,
    target: String,
    detail: String,
    last_used: Option<String>,
    reviewer: String,
    reassigned: Option<String>,
    decision: Option<&'static str>,
    reason: Option<String>,
    decided_at: Option<String>,
    outcome: Option<&'static str>,
    defaulted: bool,
    revoked_at: Option<String>,
    proof: Option<String>,
}

impl Evidence {
    fn of(i: &Item) -> Self {
        let f = &i.frozen;
        Self {
            id: f.id.clone(),
            employee_id: f.employee_id.clone(),
            user_name: f.user_name.clone(),
            access: f.access.as_str(),
            target: f.target.clone(),
            detail: f.detail.clone(),
            last_used: f.last_used.clone(),
            reviewer: f.reviewer.clone(),
            reassigned: f.reassigned.clone(),
            decision: i.decision.map(Decision::as_str),
            reason: i.reason.clone(),
            decided_at: i.decided_at.clone(),
            outcome: i.outcome.map(Decision::as_str),
            defaulted: i.defaulted,
            revoked_at: i.revoked_at.clone(),
            proof: i.proof.clone(),
        }
    }
}

impl Row for Evidence {
    const HEADER: &'static [&'static str] = &[
        "id",
        "employeeId",
        "userName",
        "access",
        "target",
        "detail",
        "lastUsed",
        "reviewer",
        "reassigned",
        "decision",
        "reason",
        "decidedAt",
        "outcome",
        "defaulted",
        "revokedAt",
        "proof",
    ];
    fn cells(&self) -> Vec<String> {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            self.id.clone(),
            self.employee_id.clone(),
            self.user_name.clone(),
            self.access.into(),
            self.target.clone(),
            self.detail.clone(),
            o(&self.last_used),
            self.reviewer.clone(),
            o(&self.reassigned),
            self.decision.unwrap_or_default().into(),
            o(&self.reason),
            o(&self.decided_at),
            self.outcome.unwrap_or_default().into(),
            self.defaulted.to_string(),
            o(&self.revoked_at),
            o(&self.proof),
        ]
    }
}

/// The report's manifest: the campaign and its population's fingerprint as filters.
fn manifest(c: &Campaign, command: &str, format: Format) -> Manifest {
    let p = &c.population;
    let mut filters = BTreeMap::from([
        ("campaign".to_owned(), c.name.clone()),
        ("status".to_owned(), c.status.as_str().to_owned()),
        ("due".to_owned(), c.due.clone()),
        ("default".to_owned(), c.default.as_str().to_owned()),
        ("populationSha256".to_owned(), p.sha256.clone()),
        ("populationExtractedAt".to_owned(), p.extracted_at.clone()),
        ("populationPeople".to_owned(), p.people.to_string()),
        ("populationItems".to_owned(), p.items.to_string()),
    ]);
    filters.extend(p.filters.iter().map(|(k, v)| (format!("population.{k}"), v.clone())));
    Manifest {
        command: command.to_owned(),
        filters,
        source: format!("the reviews table (campaign {}); population from {}", c.name, p.source),
        parts: 1,
        records: p.items,
        copies_ignored: 0,
        unreadable_lines: 0,
        altered_objects: 0,
        extracted_at: shared::lifecycle::stamp(Utc::now()),
        format: format.as_str().into(),
        rows: 0,
        sha256: String::new(),
    }
}

/// The pack as one self-contained page.
fn html_page(c: &Campaign, items: &[Item], m: &Manifest) -> String {
    use shared::html::escape;
    let mut rows = String::new();
    for i in items {
        let e = Evidence::of(i);
        let cells: String = e.cells().iter().map(|c| format!("<td>{}</td>", escape(c))).collect();
        rows.push_str(&format!("<tr>{cells}</tr>"));
    }
    let head: String = Evidence::HEADER.iter().map(|h| format!("<th>{h}</th>")).collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Access review {n}</title>\
         <style>body{{font:14px/1.4 system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.2em .4em;vertical-align:top}}</style></head><body>\
         <h1>Access review {n}</h1><p>Status {s}; started {st}; due {due}; default {d}.</p>\
         <p>Population: {people} people, {pitems} items, extracted {at} from {src}; SHA-256 {sha}.</p>\
         <p>Rows below: SHA-256 of the CSV/JSON export {esha} ({rowsn} rows).</p>\
         <table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>",
        n = escape(&c.name),
        s = c.status.as_str(),
        st = escape(&c.started_at),
        due = escape(&c.due),
        d = c.default,
        people = c.population.people,
        pitems = c.population.items,
        at = escape(&c.population.extracted_at),
        src = escape(&c.population.source),
        sha = escape(&c.population.sha256),
        esha = escape(&m.sha256),
        rowsn = m.rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_say_what_they_accept() {
        assert_eq!(days_arg("14d"), Ok(14));
        assert_eq!(days_arg("30"), Ok(30));
        assert!(days_arg("2w").is_err_and(|e| e.contains("14d")));
        assert!(days_arg("0").is_err());
        assert!(campaign_arg("Q4").is_err_and(|e| e.contains("a-z")));
        assert!(decision_arg("maybe").is_err_and(|e| e.contains("keep, revoke")));
    }
}
