//! The reviewer's page and its JSON API, one request to one answer, over the campaign store:
//! what `onboarding serve` answers under `/reviews/` (and what a deployed reviews function would).
//!
//! - `GET /reviews/{campaign}?token=T`: the page; `POST` the same address: its form.
//! - `GET /reviews/{campaign}/items?token=T`: `{"campaign", "reviewer", "due", "status", "items": [...]}`.
//! - `POST /reviews/{campaign}/decisions?token=T` with `{"decisions": [{"id", "decision", "reason"}]}`:
//!   200 with the items' new state; 400 naming the field; 403 for an item not the reviewer's;
//!   409 once the campaign is closed; 415 for a body that is not `application/json`.
//!
//! A bad or expired link is a 401. Every decision is an audit record. Nothing is written unless
//! the whole submission is valid. Answers never contain the token or the key.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::audit::{AuditRecord, Outcome, ReviewMark};
use crate::aws::reviews::Decided;
use crate::context::Ctx;
use crate::review::page::{self, Notice};
use crate::review::token::{Claims, Key};
use crate::review::{Campaign, Decision, Item, Status};

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

fn html(status: u16, body: String) -> Response {
    Response { status, content_type: HTML, body }
}

fn json_answer(status: u16, body: Value) -> Response {
    Response { status, content_type: JSON, body: body.to_string() }
}

/// An error answer in the route's kind: a plain page, or `{"error", "field"?}`.
fn refuse(api: bool, status: u16, message: &str, field: Option<&str>) -> Response {
    if api {
        let mut b = json!({ "error": message });
        if let Some(f) = field {
            b["field"] = json!(f);
        }
        json_answer(status, b)
    } else {
        html(status, page::refusal(status, message))
    }
}

/// A request, as the server read it.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Request<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn query_value(&self, name: &str) -> Option<String> {
        form_pairs(self.query.unwrap_or_default()).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// `application/x-www-form-urlencoded` pairs (also a query string), decoded.
pub fn form_pairs(s: &str) -> Vec<(String, String)> {
    let decode = |t: &str| crate::aws::percent_decode(&t.replace('+', " "));
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// Whether the path is one of these routes.
pub fn serves(path: &str) -> bool {
    path.starts_with("/reviews/")
}

/// Answers one request under `/reviews/`.
pub async fn handle(ctx: &Ctx, key: &Key, req: &Request<'_>, now: DateTime<Utc>) -> Response {
    let rest = req.path.strip_prefix("/reviews/").unwrap_or_default();
    let (campaign, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let api = !sub.is_empty();
    let route = match (req.method, sub) {
        ("GET", "") | ("POST", "") | ("GET", "items") | ("POST", "decisions") => (req.method, sub),
        (_, "" | "items" | "decisions") => return refuse(api, 405, "method not allowed here", None),
        _ => return refuse(api, 404, "no such page", None),
    };
    let token = req.query_value("token");
    let claims = match key.verify(token.as_deref(), campaign, now) {
        Ok(c) => c,
        Err(why) => return refuse(api, 401, why.why(), None),
    };
    let table = &ctx.cfg.review.table;
    let campaign = match ctx.aws.reviews.campaign(table, campaign).await {
        Ok(Some(c)) => c,
        Ok(None) => return refuse(api, 404, "no such campaign", None),
        Err(e) => return unavailable(api, &e),
    };
    let items = match ctx.aws.reviews.items(table, &campaign.name).await {
        Ok(items) => items,
        Err(e) => return unavailable(api, &e),
    };
    let mine: Vec<&Item> = items.iter().filter(|i| i.frozen.reviewer == claims.reviewer).collect();
    let token = token.unwrap_or_default();
    match route {
        ("GET", "") => html(200, page::render(&campaign, &claims.reviewer, &mine, &key.form_check(&token), None)),
        ("GET", _) => json_answer(200, view(&campaign, &claims.reviewer, &mine)),
        ("POST", "") => form(ctx, key, req, &token, &claims, &campaign, &items, now).await,
        _ => decisions(ctx, req, &claims, &campaign, &items, now).await,
    }
}

fn unavailable(api: bool, e: &crate::Error) -> Response {
    tracing::error!(error = %e, "reviews: the campaign store cannot be read");
    refuse(api, 503, "the review store is not available; try again in a minute", None)
}

/// The reviewer's items as the API shows them.
fn view(campaign: &Campaign, reviewer: &str, items: &[&Item]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|i| {
            let f = &i.frozen;
            json!({
                "id": f.id, "employeeId": f.employee_id, "userName": f.user_name, "displayName": f.display_name,
                "access": f.access.as_str(), "target": f.target, "detail": f.detail, "since": f.since,
                "lastUsed": f.last_used, "decision": i.decision.map(Decision::as_str), "reason": i.reason,
                "decidedAt": i.decided_at,
            })
        })
        .collect();
    json!({
        "campaign": campaign.name, "reviewer": reviewer, "due": campaign.due,
        "status": campaign.status.as_str(), "items": items,
    })
}

/// One decision asked for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Asked {
    id: String,
    decision: String,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    decisions: Vec<Asked>,
}

/// A checked decision, or why not, naming the field.
type Checked = Result<Vec<(String, Decision, Option<String>)>, (u16, String, String)>;

/// Checks every decision before any is written: known decision, a reason for a revoke (at most
/// 500 characters), each id once and the reviewer's own (403 otherwise), the campaign open (409).
fn check(
    asked: Vec<Asked>,
    field: &dyn Fn(usize, &str) -> String,
    claims: &Claims,
    campaign: &Campaign,
    items: &[Item],
) -> Checked {
    if campaign.status != Status::Open {
        return Err((
            409,
            format!("campaign {} is {}: decisions can no longer change", campaign.name, campaign.status.as_str()),
            "campaign".into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (n, a) in asked.into_iter().enumerate() {
        let d: Decision = a.decision.parse().map_err(|e| (400, e, field(n, "decision")))?;
        let reason = a.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        if d == Decision::Revoke && reason.is_none() {
            return Err((400, "a revoke needs a reason".into(), field(n, "reason")));
        }
        if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            return Err((400, "at most 500 characters".into(), field(n, "reason")));
        }
        if !seen.insert(a.id.clone()) {
            return Err((400, format!("item {} is decided twice", crate::event::clip(&a.id, 32)), field(n, "id")));
        }
        if !items.iter().any(|i| i.frozen.id == a.id && i.frozen.reviewer == claims.reviewer) {
            return Err((
                403,
                format!("item {} is not one of yours to decide", crate::event::clip(&a.id, 32)),
                field(n, "id"),
            ));
        }
        out.push((a.id, d, reason));
    }
    if out.is_empty() {
        return Err((400, "no decision given".into(), "decisions".into()));
    }
    Ok(out)
}

/// Writes checked decisions, one audit record each; the first refusal the store gives (a closed
/// campaign met half-way) stops the rest.
async fn write(
    ctx: &Ctx,
    claims: &Claims,
    campaign: &Campaign,
    items: &[Item],
    decided: &[(String, Decision, Option<String>)],
    now: DateTime<Utc>,
) -> Result<usize, (u16, String)> {
    let at = crate::lifecycle::stamp(now);
    let mut written = 0;
    for (id, d, reason) in decided {
        let got = ctx
            .aws
            .reviews
            .decide(&ctx.cfg.review.table, &campaign.name, id, &claims.reviewer, (*d, reason.as_deref()), &at)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "reviews: a decision could not be written");
                (503, "the review store is not available; try again in a minute".to_owned())
            })?;
        let changed = match got {
            Decided::Recorded { changed } => changed,
            Decided::NotYours => return Err((403, format!("item {id} is not one of yours to decide"))),
            Decided::Closed => {
                return Err((409, format!("campaign {} closed: decisions can no longer change", campaign.name)));
            }
        };
        let employee =
            items.iter().find(|i| &i.frozen.id == id).map(|i| i.frozen.employee_id.as_str()).unwrap_or_default();
        let mark = ReviewMark {
            campaign: campaign.name.clone(),
            item: id.clone(),
            reviewer: claims.reviewer.clone(),
            decision: d.as_str().into(),
            defaulted: false,
        };
        let outcome = if changed { Outcome::Done } else { Outcome::AlreadyDone };
        tracing::info!(campaign = %campaign.name, item = %id, reviewer = %claims.reviewer, decision = %d, "review decision");
        let record = AuditRecord::review(employee, crate::audit::REVIEW_DECIDE, mark, reason.clone(), outcome, now);
        if let Err(e) = ctx.audit(&record).await {
            crate::audit::undelivered_record(&record, &e);
            return Err((503, "the decision was saved but its audit record could not be sent; submit again".into()));
        }
        written += 1;
    }
    Ok(written)
}

/// `POST /reviews/{campaign}/decisions`.
async fn decisions(
    ctx: &Ctx,
    req: &Request<'_>,
    claims: &Claims,
    campaign: &Campaign,
    items: &[Item],
    now: DateTime<Utc>,
) -> Response {
    let ct = req.header("content-type").unwrap_or_default();
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        return refuse(true, 415, "send the decisions as application/json", Some("content-type"));
    }
    let de = &mut serde_json::Deserializer::from_slice(req.body);
    let body: Body = match serde_path_to_error::deserialize(de) {
        Ok(b) => b,
        Err(e) => {
            let path = e.path().to_string();
            let field = if path == "." { "decisions".to_owned() } else { path };
            return refuse(
                true,
                400,
                &format!(
                    "{}; expected {{\"decisions\": [{{\"id\", \"decision\": \"keep\"|\"revoke\", \"reason\"}}]}}",
                    e.inner()
                ),
                Some(&field),
            );
        }
    };
    let field = |n: usize, f: &str| format!("decisions[{n}].{f}");
    let decided = match check(body.decisions, &field, claims, campaign, items) {
        Ok(d) => d,
        Err((status, message, field)) => return refuse(true, status, &message, Some(&field)),
    };
    if let Err((status, message)) = write(ctx, claims, campaign, items, &decided, now).await {
        return refuse(true, status, &message, None);
    }
    let items = match ctx.aws.reviews.items(&ctx.cfg.review.table, &campaign.name).await {
        Ok(i) => i,
        Err(e) => return unavailable(true, &e),
    };
    let changed: Vec<&Item> = items.iter().filter(|i| decided.iter().any(|(id, ..)| *id == i.frozen.id)).collect();
    json_answer(200, view(campaign, &claims.reviewer, &changed))
}

/// `POST /reviews/{campaign}`: the page's form. Refused unless it comes from the page itself
/// (the browser's `Sec-Fetch-Site`/`Origin`, and the check bound to the link).
#[allow(clippy::too_many_arguments)]
async fn form(
    ctx: &Ctx,
    key: &Key,
    req: &Request<'_>,
    token: &str,
    claims: &Claims,
    campaign: &Campaign,
    items: &[Item],
    now: DateTime<Utc>,
) -> Response {
    let cross_site = matches!(req.header("sec-fetch-site"), Some("cross-site" | "same-site"));
    // The page's `Referrer-Policy: no-referrer` makes a browser send `Origin: null` on its own
    // form; `Sec-Fetch-Site` and the check decide then. Otherwise the origin is this server (its
    // `Host`) or the address reviewers are sent to (`review.base_url`, e.g. a domain in front).
    let authority = |url: &str| url.split_once("://").map(|(_, a)| a.trim_end_matches('/').to_owned());
    let ours = [req.header("host").map(str::to_owned), ctx.cfg.review.base_url.as_deref().and_then(authority)];
    let foreign_origin = match req.header("origin").filter(|o| *o != "null") {
        Some(o) => authority(o).is_none_or(|a| !ours.iter().flatten().any(|h| *h == a)),
        None => false,
    };
    let fields: BTreeMap<String, String> = form_pairs(&String::from_utf8_lossy(req.body)).into_iter().collect();
    let checked = fields.get("check").is_some_and(|c| key.form_ok(token, c));
    if cross_site || foreign_origin || !checked {
        return refuse(
            false,
            403,
            "this form was not sent from your review page: open your link and submit there",
            None,
        );
    }
    let asked: Vec<Asked> = fields
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("decision.").map(|id| (id, v)))
        .map(|(id, v)| Asked {
            id: id.to_owned(),
            decision: v.clone(),
            reason: fields.get(&format!("reason.{id}")).cloned(),
        })
        .collect();
    let mine: Vec<&Item> = items.iter().filter(|i| i.frozen.reviewer == claims.reviewer).collect();
    let ids: Vec<String> = asked.iter().map(|a| a.id.clone()).collect();
    let field = |n: usize, f: &str| format!("the {f} of item {}", ids.get(n).map(String::as_str).unwrap_or_default());
    let notice = match check(asked, &field, claims, campaign, items) {
        Err((status @ (403 | 409), m, _)) => return refuse(false, status, &m, None),
        Err((_, m, f)) => {
            let notice = Notice::Error(format!("Nothing was saved: {f}: {m}."));
            return html(400, page::render(campaign, &claims.reviewer, &mine, &key.form_check(token), Some(&notice)));
        }
        Ok(decided) => match write(ctx, claims, campaign, items, &decided, now).await {
            Ok(n) => Notice::Saved(n),
            Err((status, m)) => return refuse(false, status, &m, None),
        },
    };
    let items = match ctx.aws.reviews.items(&ctx.cfg.review.table, &campaign.name).await {
        Ok(i) => i,
        Err(e) => return unavailable(false, &e),
    };
    let mine: Vec<&Item> = items.iter().filter(|i| i.frozen.reviewer == claims.reviewer).collect();
    html(200, page::render(campaign, &claims.reviewer, &mine, &key.form_check(token), Some(&notice)))
}

/// One invocation of the deployed `reviews` function: a Function URL request (the page and the
/// API), or records of the reviews table's stream, where a campaign whose links were asked for
/// (`review start`, `review remind` with `[review] links = "function"`) gets them signed and sent:
/// the key never leaves this function.
pub async fn function(ctx: &Ctx, key: &Key, payload: &Value, now: DateTime<Utc>) -> Result<Value, crate::Error> {
    if payload.get("requestContext").is_some() {
        let (method, path, headers, body) = crate::intake::from_function_url(payload);
        let query = payload["rawQueryString"].as_str().filter(|q| !q.is_empty());
        let req = Request { method: &method, path: &path, query, headers: &headers, body: &body };
        let answer =
            if serves(&path) { handle(ctx, key, &req, now).await } else { refuse(false, 404, "no such page", None) };
        let mut h = serde_json::Map::new();
        h.insert("content-type".into(), answer.content_type.into());
        for (k, v) in page::HEADERS {
            h.insert(k.into(), v.into());
        }
        return Ok(json!({"statusCode": answer.status, "headers": h, "body": answer.body, "isBase64Encoded": false}));
    }
    let mut sent = Vec::new();
    for r in payload["Records"].as_array().into_iter().flatten() {
        let (new, old) = (&r["dynamodb"]["NewImage"], &r["dynamodb"]["OldImage"]);
        let asked = new["linksRequested"]["S"].as_str();
        if new["sk"]["S"] != "campaign" || asked.is_none() || asked == old["linksRequested"]["S"].as_str() {
            continue;
        }
        let name = new["campaign"]["S"].as_str().unwrap_or_default();
        let reminder = new["linksReminder"]["BOOL"].as_bool().unwrap_or(false);
        let Some(campaign) = ctx.aws.reviews.campaign(&ctx.cfg.review.table, name).await? else { continue };
        if campaign.status != Status::Open {
            tracing::info!(
                campaign = name,
                status = campaign.status.as_str(),
                "links not sent: the campaign is not open"
            );
            continue;
        }
        let base = ctx.cfg.review.base_url.as_deref().ok_or_else(|| {
            crate::Error::Input(
                "review.base_url is not set: set the stack's ReviewsBaseUrl to its ReviewsUrl output (or your \
                 domain in front of it) and update the stack"
                    .into(),
            )
        })?;
        let told = super::notify(ctx, &campaign, key, base, reminder).await?;
        tracing::info!(campaign = name, reminder, reviewers = told.len(), "reviewers' links sent");
        sent.push(json!({"campaign": name, "reminder": reminder, "reviewers": told.len()}));
    }
    Ok(json!({"sent": sent}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_and_queries_decode() {
        assert_eq!(
            form_pairs("check=a%2Bb&reason.x=no+longer+needed&decision.x=revoke&empty"),
            vec![
                ("check".into(), "a+b".into()),
                ("reason.x".into(), "no longer needed".into()),
                ("decision.x".into(), "revoke".into()),
                ("empty".into(), String::new()),
            ]
        );
    }
}
