//! `onboarding review start|status|remind|close|report`: access reviews. `start` reads every
//! managed person's access from IAM (groups and what they grant, console access, access keys
//! with their last use, policies on the user), freezes it as the campaign's items with a
//! manifest (SHA-256 of the population), stores it (the `[review] table`), writes the population
//! to the trail bucket (Object Lock) when there is one, and sends each reviewer their link.
//! Decisions come through `onboarding serve`'s `/reviews/` page and API
//! (`shared::drivers::review::api`); `close` settles and revokes (`shared::drivers::review`); `report` is
//! the evidence pack.

use std::io::Write;
use std::path::PathBuf;

use chrono::{TimeDelta, Utc};
use clap::Subcommand;
use shared::config::Links;
use shared::review::{self, Campaign, Decision, Status};
use shared::steps::Ctx;

use crate::audit::source::Source;
use crate::audit::{Format, export, write_to};
use crate::output::{EXIT_EVENT_FAILED, EXIT_OK, EXIT_QUARANTINED, Stop};

mod evidence;
mod holdings;

use evidence::{Evidence, Progress, Witness, html_page, manifest, witnesses};
use holdings::freeze;

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
    /// revocation read back (and, with --trail, whether the audit trail witnesses each decision);
    /// its manifest carries the population's SHA-256. Also written to the trail bucket (Object
    /// Lock) when the config names one.
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
        /// Check every decision against the audit trail here (`s3://BUCKET[/PREFIX]`, a directory
        /// of `.jsonl` files, or one file): each must have the `review:Decide` record the page
        /// wrote with it. A decision without one, or a damaged trail, exits 1 (the pack is still
        /// written, naming each in its `trail` column).
        #[arg(long)]
        trail: Option<String>,
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
        ReviewAction::Report { campaign, out: path, population, html, trail } => {
            let c = campaign_of(campaign).await?;
            let items = ctx.aws.reviews.items(table, &c.name).await.map_err(Stop::failed)?;
            let mut manifest = manifest(&c, command, format);
            let checked = match trail {
                Some(source) => {
                    let source = Source::parse(source).map_err(Stop::usage)?;
                    let read = crate::audit::source::read(&source, Some(&ctx.cfg)).await?;
                    let w = witnesses(&c.name, &items, &read.records);
                    let unwitnessed = w.values().filter(|w| **w != Witness::Recorded).count();
                    manifest.filters.extend([
                        ("trail".to_owned(), source.describe()),
                        ("trailRecords".to_owned(), read.records.len().to_string()),
                        ("trailUnreadableLines".to_owned(), read.unreadable.len().to_string()),
                        ("trailAlteredObjects".to_owned(), read.altered.len().to_string()),
                        ("decisionsWitnessed".to_owned(), (w.len() - unwitnessed).to_string()),
                        ("decisionsUnwitnessed".to_owned(), unwitnessed.to_string()),
                    ]);
                    let damaged = read.unreadable.len() + read.altered.len();
                    Some((w, unwitnessed, damaged))
                }
                None => None,
            };
            let witnessed = checked.as_ref().map(|(w, _, _)| w);
            let rows: Vec<Evidence> =
                items.iter().map(|i| Evidence::of(i, witnessed.and_then(|w| w.get(&i.frozen.id)))).collect();
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
                let page = html_page(&c, &items, witnessed, &e.manifest);
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
            match checked {
                Some((_, unwitnessed, damaged)) if unwitnessed + damaged > 0 => {
                    let _ = writeln!(
                        err,
                        "campaign {}: {unwitnessed} decision(s) the trail does not witness (no review:Decide \
                         record, or one that says otherwise: written to the reviews table outside the page, or not \
                         archived yet) and {damaged} damaged line(s) or object(s) in the trail; see the `trail` column",
                        c.name
                    );
                    Ok(EXIT_EVENT_FAILED)
                }
                _ => Ok(EXIT_OK),
            }
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
