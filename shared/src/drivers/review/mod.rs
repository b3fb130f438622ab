//! Closing an access review: decisions stop, every item gets its outcome (the reviewer's, else
//! the campaign's default, each an audit record), the guard weighs the revocations, and each
//! revocation is carried out through the person layer's audited calls and read back as proof.
//! Rerunning it carries on where it stopped: outcomes already set stay, revocations already proven
//! are not repeated.

pub mod api;

use chrono::{DateTime, Utc};

use crate::audit::{AuditRecord, Ids, Outcome, ReviewMark};
use crate::context::Ctx;
use crate::error::Error;
use crate::flow::Step;
use crate::review::{self, Campaign, Decision, Item, Status};
use crate::trail::Trail;

/// What closing did.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Closed {
    pub campaign: Campaign,
    pub people: usize,
    /// People who lose some access.
    pub losing: usize,
    /// Held by the guard: nothing revoked.
    pub held: bool,
    /// Items revoked now (id, proof).
    pub revoked: Vec<(String, String)>,
    /// Items whose revocation failed (id, error); a rerun tries them again.
    pub failed: Vec<(String, String)>,
    /// Items whose outcome was the default.
    pub defaulted: usize,
}

impl Closed {
    /// One line for an operator.
    pub fn line(&self) -> String {
        format!(
            "campaign {} {}: {} people reviewed, {} losing access, {} items defaulted, {} revoked now, {} failed",
            self.campaign.name,
            if self.held { "held by the guard" } else { self.campaign.status.as_str() },
            self.people,
            self.losing,
            self.defaulted,
            self.revoked.len(),
            self.failed.len()
        )
    }
}

/// The sweep's part: closes every open campaign whose due date has passed.
pub async fn close_due(ctx: &Ctx, now: DateTime<Utc>) -> Result<Vec<Closed>, Error> {
    let due = ctx.aws.reviews.open_and_due(&ctx.cfg.review.table, &crate::lifecycle::stamp(now)).await?;
    let mut closed = Vec::new();
    for name in due {
        tracing::info!(campaign = %name, "access review due: closing it");
        closed.push(close(ctx, &name, now).await?);
    }
    Ok(closed)
}

/// Closes `name` (see the module). Refused when the campaign does not exist.
pub async fn close(ctx: &Ctx, name: &str, now: DateTime<Utc>) -> Result<Closed, Error> {
    let table = &ctx.cfg.review.table;
    let store = &ctx.aws.reviews;
    let Some(mut campaign) = store.campaign(table, name).await? else {
        return Err(Error::Missing {
            kind: "campaign",
            name: name.into(),
            hint: "start it with `onboarding review start`",
        });
    };
    let stamp = crate::lifecycle::stamp(now);
    if campaign.status == Status::Open {
        // From here the page and the API refuse new decisions.
        store.set_status(table, name, Status::Held, &stamp).await?;
        campaign.status = Status::Held;
    }
    // One record per item: published ten to a call (a campaign has thousands).
    let (items, published) = ctx.batch(settle(ctx, &campaign, now)).await;
    let items = items?;
    published?;
    let outcomes = review::outcomes(&items, campaign.default);
    let defaulted = items.iter().filter(|i| i.defaulted).count();
    let (people, losing, over) = review::over_guard(&items, &outcomes, campaign.max_revoke_percent);
    let pending: Vec<&Item> =
        items.iter().filter(|i| i.outcome == Some(Decision::Revoke) && i.revoked_at.is_none()).collect();
    let mut closed =
        Closed { campaign, people, losing, held: false, revoked: Vec::new(), failed: Vec::new(), defaulted };
    if over && !ctx.allow_mass_offboarding && !pending.is_empty() {
        let why = format!(
            "access review {name}: revocations would touch {losing} of {people} people reviewed, more than \
             [review] max_revoke_percent = {}%",
            closed.campaign.max_revoke_percent
        );
        tracing::warn!(campaign = name, losing, people, "access review held by the guard");
        let _ = ctx.alert(&AuditRecord::review_held(name, why, now)).await;
        closed.held = true;
        return Ok(closed);
    }
    for item in pending {
        let f = &item.frozen;
        let ids = Ids { employee_id: Some(f.employee_id.clone()), ..Ids::default() };
        let mut trail = Trail::with_ids(ctx, ids, Step::Review);
        match crate::person::access::revoke_grant(ctx, &mut trail, (&f.employee_id, &f.user_name), f.access, &f.target)
            .await
        {
            Ok(proof) => {
                let at = crate::lifecycle::stamp(Utc::now());
                let proof = format!("read back at {at}: {proof}");
                store.revoked(table, name, &f.id, &at, &proof).await?;
                closed.revoked.push((f.id.clone(), proof));
            }
            Err(e) => {
                tracing::error!(campaign = name, item = %f.id, error = %e, "revocation failed");
                closed.failed.push((f.id.clone(), e.to_string()));
            }
        }
    }
    if closed.failed.is_empty() {
        store.set_status(table, name, Status::Closed, &crate::lifecycle::stamp(Utc::now())).await?;
        closed.campaign.status = Status::Closed;
    }
    Ok(closed)
}

/// Sets every item's outcome (one `review:Settle` record each) and returns the items as they
/// stand. A decision that arrives meanwhile wins: the item is read again.
async fn settle(ctx: &Ctx, campaign: &Campaign, now: DateTime<Utc>) -> Result<Vec<Item>, Error> {
    let (table, store) = (&ctx.cfg.review.table, &ctx.aws.reviews);
    for _round in 0..3 {
        let items = store.items(table, &campaign.name).await?;
        let open: Vec<&Item> = items.iter().filter(|i| i.outcome.is_none()).collect();
        if open.is_empty() {
            return Ok(items);
        }
        for i in open {
            let (outcome, defaulted) = match i.decision {
                Some(d) => (d, false),
                None => (campaign.default, true),
            };
            if !store.settle(table, &campaign.name, &i.frozen.id, i.decision, outcome, defaulted).await? {
                continue;
            }
            let mark = ReviewMark {
                campaign: campaign.name.clone(),
                item: i.frozen.id.clone(),
                reviewer: i.frozen.reviewer.clone(),
                decision: outcome.as_str().into(),
                defaulted,
            };
            let reason = if defaulted {
                Some("undecided at close: the campaign's default".to_owned())
            } else {
                i.reason.clone()
            };
            let record = AuditRecord::review(
                &i.frozen.employee_id,
                crate::audit::REVIEW_SETTLE,
                mark,
                reason,
                Outcome::Done,
                now,
            );
            ctx.audit(&record).await?;
        }
    }
    let items = store.items(table, &campaign.name).await?;
    match items.iter().find(|i| i.outcome.is_none()) {
        Some(i) => Err(Error::Conflict(format!(
            "item {} kept changing while the campaign closed; run close again",
            i.frozen.id
        ))),
        None => Ok(items),
    }
}

/// Sends each reviewer with undecided items (every reviewer, for a new campaign) their link:
/// a token of their own, valid until the campaign is due. One message and audit record each;
/// returns `(reviewer, undecided, total)` of those told.
pub async fn notify(
    ctx: &Ctx,
    campaign: &Campaign,
    key: &review::token::Key,
    base_url: &str,
    reminder: bool,
) -> Result<Vec<(String, usize, usize)>, Error> {
    let items = ctx.aws.reviews.items(&ctx.cfg.review.table, &campaign.name).await?;
    let due = crate::lifecycle::parse_stamp(&campaign.due)
        .ok_or_else(|| Error::Input(format!("campaign {}: due `{}` is not a time", campaign.name, campaign.due)))?;
    let mut told = Vec::new();
    let mut messages = Vec::new();
    for (reviewer, decided, total) in review::progress(&items) {
        if reminder && decided == total {
            continue;
        }
        let token = key.issue(&campaign.name, &reviewer, due);
        let link = format!("{}/reviews/{}?token={token}", base_url.trim_end_matches('/'), campaign.name);
        let (subject, body) = review::reviewer_message(campaign, &link, total - decided, total, reminder);
        let kind = if reminder { "access-review-reminder" } else { "access-review" };
        messages.push(crate::person::notices::Message { recipient: reviewer.clone(), kind, subject, body });
        told.push((reviewer, total - decided, total));
    }
    let mut trail = Trail::with_ids(ctx, Ids::default(), Step::Review);
    crate::person::notices::publish(ctx, &mut trail, "", &messages).await?;
    Ok(told)
}
