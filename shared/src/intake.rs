//! The intake: one HTTP request in, one answer out, one audit record (or, for a request whose
//! signature did not verify, a count in one record per minute: [`Refused`]). The same code answers in
//! the `intake` Lambda (behind a Function URL, handing on to the bus) and in `onboarding serve`
//! (handing on to the pipeline in process); only the [`Dedupe`], [`HandOn`] and [`Audit`]
//! behind it differ.
//!
//! Answers: `202` accepted and handed on; `200` a `webhook-id` accepted within 24 hours (the first
//! answer again, nothing handed on twice); `400` a malformed body, an invalid field (named) or a
//! timestamp out of tolerance; `401` a missing or bad signature or an unknown source; `413` a body
//! over 256 KiB; `404`/`405` another path or method; `503` only when it could not hand on (the
//! sender retries).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::audit::{AuditRecord, Ids};
use crate::error::Error;
use crate::event::HrEvent;
use crate::webhook::{self, Answer, Headers, Refusal, SigningSecret};

/// One request as the server or the Function URL saw it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Header names in any case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Where an accepted request's `webhook-id` is remembered.
pub enum Claim {
    /// This request may hand the event on; nobody else holds the id.
    Mine,
    /// The id was accepted before: its answer.
    Answered(Answer),
    /// Another request with this id is being handled right now.
    Busy,
}

/// Remembers accepted `webhook-id`s for [`webhook::REMEMBER`]. A claim is a lease: one not
/// answered within [`CLAIM_LEASE`] (its holder died) may be taken over.
pub trait Dedupe: Send + Sync {
    fn claim(&self, key: &str, now: DateTime<Utc>) -> impl Future<Output = Result<Claim, Error>> + Send;
    fn answered(
        &self,
        key: &str,
        answer: &Answer,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// Forgets a claim whose event could not be handed on.
    fn release(&self, key: &str) -> impl Future<Output = Result<(), Error>> + Send;
}

/// How long a claim holds before another request with the same id may take it over.
pub const CLAIM_LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// Where accepted events go: the bus, or the local pipeline's queue.
pub trait HandOn: Send + Sync {
    fn hand_on(&self, envelope: &Value, event: &HrEvent) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Where the one record per request goes.
pub trait Audit: Send + Sync {
    fn audit(&self, record: &AuditRecord) -> impl Future<Output = Result<(), Error>> + Send;
}

pub struct Intake<D, H, A> {
    /// Each source's name and its signing secrets.
    pub sources: Sources,
    pub dedupe: D,
    pub hand_on: H,
    pub audit: A,
    pub refused: Refused,
}

/// Each source's signing secrets, replaceable while requests are answered (the deployed intake
/// re-reads them on a short TTL, so a revoked secret stops working within minutes).
#[derive(Debug, Default)]
pub struct Sources(std::sync::RwLock<BTreeMap<String, Vec<SigningSecret>>>);

impl From<BTreeMap<String, Vec<SigningSecret>>> for Sources {
    fn from(map: BTreeMap<String, Vec<SigningSecret>>) -> Self {
        Self(std::sync::RwLock::new(map))
    }
}

impl Sources {
    /// A source's secrets, `None` for a source that is not configured.
    pub fn get(&self, source: &str) -> Option<Vec<SigningSecret>> {
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(source).cloned()
    }

    /// Whether the source is configured.
    pub fn contains(&self, source: &str) -> bool {
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).contains_key(source)
    }

    pub fn replace(&self, map: BTreeMap<String, Vec<SigningSecret>>) {
        *self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = map;
    }
}

/// The refusals of requests whose signature did not verify, counted per minute: anyone on the
/// internet can send those, and a record each would let a flood fill the trail (locked for
/// years). A minute's counts become one record ([`AuditRecord::intake_refused`]) when a request
/// arrives in a later minute. Each request is still logged, and the 401 alarm counts the log
/// lines; a process that ends loses at most its last minute's counts (said in docs/deploying.md).
#[derive(Debug, Default)]
pub struct Refused(Mutex<Tally>);

#[derive(Debug, Default)]
struct Tally {
    minute: i64,
    counts: BTreeMap<String, u64>,
}

/// How many kinds of refusal one minute tells apart; the rest are counted together.
const REFUSAL_KINDS: usize = 32;

impl Refused {
    /// The record of a minute before `now`'s (or, `all`, of the open one too), if it refused
    /// anything; taken, so given once.
    fn close(&self, now: DateTime<Utc>, all: bool) -> Option<AuditRecord> {
        let mut t = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let minute = now.timestamp().div_euclid(60);
        if (t.minute == minute && !all) || t.counts.is_empty() {
            t.minute = minute;
            return None;
        }
        let counts = std::mem::take(&mut t.counts);
        let start = DateTime::from_timestamp(t.minute * 60, 0).unwrap_or(now);
        t.minute = minute;
        Some(AuditRecord::intake_refused(start, &counts, now))
    }

    fn count(&self, now: DateTime<Utc>, what: String) {
        let mut t = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        t.minute = now.timestamp().div_euclid(60);
        let known = t.counts.len() < REFUSAL_KINDS || t.counts.contains_key(&what);
        *t.counts.entry(if known { what } else { "other refusals".into() }).or_default() += 1;
    }
}

impl<D: Dedupe, H: HandOn, A: Audit> Intake<D, H, A> {
    /// Answers one request and leaves its audit record (source, `webhook-id`, outcome, reason;
    /// never the body, a signature or a secret). A record that cannot be published is logged in
    /// full (`audit record undelivered`, which the stack counts and alarms on) and does not change
    /// the answer: the event is already handed on, or refused.
    pub async fn handle(&self, req: &Request<'_>, now: DateTime<Utc>) -> Answer {
        let source = req.path.strip_prefix("/hooks/").filter(|s| !s.is_empty() && !s.contains('/'));
        let (answer, ids, verified) = self.answer(req, source, now).await;
        let id = req.header(webhook::HEADER_ID).map(|i| crate::event::clip(i, 256));
        let target = format!("webhook/{}/{}", source.unwrap_or("-"), id.as_deref().unwrap_or("-"));
        let record = AuditRecord::intake(&ids, &target, &answer, now);
        tracing::info!(status = answer.status, outcome = %answer.outcome, target, "webhook answered");
        if let Some(minute) = self.refused.close(now, false) {
            self.publish(&minute).await;
        }
        if verified {
            self.publish(&record).await;
        } else {
            // Only a configured source is named: a path is anyone's to invent.
            let source = source.filter(|s| self.sources.contains(s)).unwrap_or("-");
            self.refused.count(now, format!("{} (source {source})", record.reason.as_deref().unwrap_or("refused")));
        }
        answer
    }

    /// Records the refusals still counted (a server shutting down calls this last).
    pub async fn flush_refused(&self, now: DateTime<Utc>) {
        if let Some(minute) = self.refused.close(now, true) {
            self.publish(&minute).await;
        }
    }

    async fn publish(&self, record: &AuditRecord) {
        if let Err(e) = self.audit.audit(record).await {
            crate::audit::undelivered_record(record, &e);
        }
    }

    /// The answer, who it is about, and whether the request's signature verified (only then does
    /// it get a record of its own).
    async fn answer(&self, req: &Request<'_>, source: Option<&str>, now: DateTime<Utc>) -> (Answer, Ids, bool) {
        let (answer, ids) = self.verified_answer(req, source, now).await;
        match answer {
            Ok(a) => (a, ids, true),
            Err(a) => (a, ids, false),
        }
    }

    /// `Err` for a request refused before its signature verified.
    async fn verified_answer(
        &self,
        req: &Request<'_>,
        source: Option<&str>,
        now: DateTime<Utc>,
    ) -> (Result<Answer, Answer>, Ids) {
        let id = req.header(webhook::HEADER_ID);
        let refuse = |status, outcome, field: Option<&str>, error: &str| {
            (Err(Answer::refused(id, Refusal::new(status, outcome, field, error))), Ids::default())
        };
        let Some(source) = source else {
            return refuse(404, "not-found", None, "post to /hooks/{source}");
        };
        if req.method != "POST" {
            return refuse(405, "method-not-allowed", None, "only POST");
        }
        let Some(secrets) = self.sources.get(source) else {
            return refuse(401, "unauthorized", Some("source"), "no such source");
        };
        if secrets.is_empty() {
            return refuse(401, "unauthorized", Some("source"), "this source has no signing secret configured");
        }
        if req.body.len() > webhook::MAX_BODY {
            return refuse(413, "too-large", None, "the body is over 256 KiB");
        }
        let headers = Headers::find(|h| req.header(h));
        let id = match webhook::verify(&secrets, &headers, req.body, now) {
            Ok(id) => id,
            Err(r) => return (Err(Answer::refused(headers.id, r)), Ids::default()),
        };
        let refuse = |status, outcome, field: Option<&str>, error: &str| {
            (Ok(Answer::refused(Some(id), Refusal::new(status, outcome, field, error))), Ids::default())
        };
        let key = format!("{source}/{id}");
        match self.dedupe.claim(&key, now).await {
            Ok(Claim::Mine) => {}
            Ok(Claim::Answered(mut first)) => {
                first.status = 200;
                return (Ok(first), Ids::default());
            }
            Ok(Claim::Busy) => return refuse(503, "unavailable", None, "this webhook-id is being handled; retry"),
            Err(e) => {
                tracing::error!(error = %e, "intake: the dedupe store failed");
                return refuse(503, "unavailable", None, "could not check for a replay; retry");
            }
        }
        let (envelope, event) = match webhook::envelope(source, id, req.body, now) {
            Ok(v) => v,
            Err(e) => {
                self.forget(&key).await;
                return (Ok(Answer::refused(Some(id), Refusal::invalid(e))), Ids::default());
            }
        };
        let ids = Ids::of(event.meta());
        if let Err(e) = self.hand_on.hand_on(&envelope, &event).await {
            tracing::error!(error = %e, "intake: could not hand the event on");
            self.forget(&key).await;
            return (
                Ok(Answer::refused(Some(id), Refusal::new(503, "unavailable", None, "could not hand on; retry"))),
                ids,
            );
        }
        let answer = Answer::accepted(id);
        if let Err(e) = self.dedupe.answered(&key, &answer, now).await {
            // Handed on already: a resend may hand it on again, which the pipeline absorbs.
            tracing::warn!(error = %e, "intake: the accepted webhook-id was not remembered");
        }
        (Ok(answer), ids)
    }

    async fn forget(&self, key: &str) {
        if let Err(e) = self.dedupe.release(key).await {
            tracing::warn!(error = %e, "intake: a claim was not released; it lapses after its lease");
        }
    }
}

/// A Lambda Function URL event (payload format 2.0) as the parts of a [`Request`]: method,
/// path, headers, and the body (base64-decoded when the event says it is encoded).
pub fn from_function_url(ev: &Value) -> (String, String, Vec<(String, String)>, Vec<u8>) {
    use base64::Engine;
    let method = ev["requestContext"]["http"]["method"].as_str().unwrap_or("GET").to_owned();
    let path = ev["rawPath"].as_str().unwrap_or("/").to_owned();
    let headers = ev["headers"]
        .as_object()
        .map(|h| h.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default();
    let raw = ev["body"].as_str().unwrap_or_default();
    let body = if ev["isBase64Encoded"].as_bool() == Some(true) {
        // Undecodable base64 cannot carry a valid signature: an empty body is refused as such.
        base64::engine::general_purpose::STANDARD.decode(raw).unwrap_or_default()
    } else {
        raw.as_bytes().to_vec()
    };
    (method, path, headers, body)
}

/// An answer as a Function URL response.
pub fn to_function_url(answer: &Answer) -> Value {
    serde_json::json!({
        "statusCode": answer.status,
        "headers": {"content-type": "application/json"},
        "body": answer.body(),
        "isBase64Encoded": false,
    })
}

/// Remembers ids in memory (`onboarding serve`): a restart forgets them, and a resend after it
/// is handed on again, which the pipeline's idempotency absorbs.
#[derive(Default)]
pub struct MemoryDedupe {
    /// Per key: when it was claimed or answered, and the answer once there is one.
    seen: Mutex<HashMap<String, Seen>>,
}

type Seen = (DateTime<Utc>, Option<Answer>);

impl Dedupe for MemoryDedupe {
    async fn claim(&self, key: &str, now: DateTime<Utc>) -> Result<Claim, Error> {
        let mut seen = self.seen.lock().map_err(|_| Error::Input("dedupe lock poisoned".into()))?;
        if seen.len() > 100_000 {
            seen.retain(|_, (at, _)| now - *at < webhook::REMEMBER);
        }
        match seen.get(key) {
            Some((at, Some(answer))) if now - *at < webhook::REMEMBER => Ok(Claim::Answered(answer.clone())),
            Some((at, None)) if now - *at < CLAIM_LEASE => Ok(Claim::Busy),
            _ => {
                seen.insert(key.to_owned(), (now, None));
                Ok(Claim::Mine)
            }
        }
    }

    async fn answered(&self, key: &str, answer: &Answer, now: DateTime<Utc>) -> Result<(), Error> {
        let mut seen = self.seen.lock().map_err(|_| Error::Input("dedupe lock poisoned".into()))?;
        seen.insert(key.to_owned(), (now, Some(answer.clone())));
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), Error> {
        let mut seen = self.seen.lock().map_err(|_| Error::Input("dedupe lock poisoned".into()))?;
        seen.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Outcome;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Counting(AtomicUsize, Mutex<Vec<AuditRecord>>);

    impl HandOn for Counting {
        async fn hand_on(&self, _: &Value, _: &HrEvent) -> Result<(), Error> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    impl Audit for Counting {
        async fn audit(&self, r: &AuditRecord) -> Result<(), Error> {
            self.1.lock().expect("lock").push(r.clone());
            Ok(())
        }
    }

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn body() -> Vec<u8> {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/depart-immediate.json"))
            .expect("sample");
        let sample: Value = serde_json::from_str(&text).expect("json");
        serde_json::json!({"type": "employee.departed", "timestamp": "2026-11-27T08:05:00Z", "data": sample["detail"]})
            .to_string()
            .into_bytes()
    }

    fn signed(id: &str, body: &[u8], now: DateTime<Utc>) -> Vec<(String, String)> {
        let s = SigningSecret::parse(SECRET).expect("secret");
        vec![
            ("Webhook-Id".into(), id.into()),
            ("webhook-timestamp".into(), now.timestamp().to_string()),
            ("webhook-signature".into(), s.sign(id, now.timestamp(), body)),
        ]
    }

    /// An intake with one source, `workday`, signing with `secrets`.
    fn workday(secrets: Vec<SigningSecret>) -> Intake<MemoryDedupe, Counting, Counting> {
        Intake {
            sources: BTreeMap::from([("workday".into(), secrets)]).into(),
            dedupe: MemoryDedupe::default(),
            hand_on: Counting::default(),
            audit: Counting::default(),
            refused: Refused::default(),
        }
    }

    #[tokio::test]
    async fn accepted_once_then_the_same_answer_and_nothing_handed_on_twice() {
        let now: DateTime<Utc> = "2026-11-28T00:00:00Z".parse().expect("now");
        let intake = workday(vec![SigningSecret::parse(SECRET).expect("s")]);
        let body = body();
        let headers = signed("msg_1", &body, now);
        let req = Request { method: "POST", path: "/hooks/workday", headers: &headers, body: &body };
        let first = intake.handle(&req, now).await;
        assert_eq!((first.status, first.outcome.as_str()), (202, "accepted"));
        let again = intake.handle(&req, now).await;
        assert_eq!((again.status, again.body()), (200, first.body()));
        assert_eq!(intake.hand_on.0.load(Ordering::SeqCst), 1);

        for (method, path, status) in
            [("GET", "/hooks/workday", 405), ("POST", "/other", 404), ("POST", "/hooks/adp", 401)]
        {
            let a = intake.handle(&Request { method, path, ..req }, now).await;
            assert_eq!(a.status, status, "{method} {path}");
        }
        let big = vec![b' '; webhook::MAX_BODY + 1];
        assert_eq!(intake.handle(&Request { body: &big, ..req }, now).await.status, 413);
        // A signed request has a record each; the four unsigned refusals none yet.
        let records = intake.audit.1.lock().expect("lock").clone();
        assert_eq!(records.len(), 2, "{records:?}");
        assert_eq!(records[0].outcome, Outcome::Done);
        assert_eq!(records[1].outcome, Outcome::AlreadyDone);
        assert_eq!(records[0].target.as_deref(), Some("webhook/workday/msg_1"));
        assert_eq!(records[0].event_id.as_deref(), Some("hr-evt-3002"));
        // In the next minute, one record counts them all, each kind apart; an unknown source's
        // name (anyone's to invent) is not in it.
        let later = now + chrono::TimeDelta::seconds(61);
        let headers = signed("msg_2", &body, later);
        let next = intake.handle(&Request { headers: &headers, ..req }, later).await;
        assert_eq!(next.status, 202);
        let records = intake.audit.1.lock().expect("lock").clone();
        assert_eq!(records.len(), 4, "{records:?}");
        let minute = &records[2];
        assert_eq!(
            (minute.action.as_str(), minute.count, minute.outcome),
            ("webhook:Refused", Some(4), Outcome::Failed)
        );
        let reason = minute.reason.as_deref().expect("reason");
        assert!(
            reason.starts_with("4 unsigned requests refused in the minute from 2026-11-28T00:00:00.000Z"),
            "{reason}"
        );
        for kind in ["1 x 405", "1 x 404", "1 x 401 unauthorized: source: no such source (source -)", "1 x 413"] {
            assert!(reason.contains(kind), "{kind} in {reason}");
        }
        assert!(!reason.contains("adp"), "{reason}");
        assert_eq!(records[3].target.as_deref(), Some("webhook/workday/msg_2"));
    }

    #[tokio::test]
    async fn a_flood_of_unsigned_requests_leaves_one_record_a_minute() {
        let now: DateTime<Utc> = "2026-11-28T00:00:00Z".parse().expect("now");
        let intake = workday(vec![SigningSecret::parse(SECRET).expect("s")]);
        let body = body();
        for i in 0..3_000 {
            let at = now + chrono::TimeDelta::milliseconds(i * 40); // two minutes of 25 requests a second
            let headers = vec![("webhook-id".to_owned(), format!("m{i}"))];
            let req = Request { method: "POST", path: "/hooks/workday", headers: &headers, body: &body };
            assert_eq!(intake.handle(&req, at).await.status, 401);
        }
        let records = intake.audit.1.lock().expect("lock").clone();
        assert_eq!(records.len(), 1, "the first minute closed; the second waits for the next request");
        assert_eq!(records[0].count, Some(1_500));
        assert_eq!(intake.hand_on.0.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_source_without_a_signing_secret_is_answered_401_and_nothing_is_handed_on() {
        let now: DateTime<Utc> = "2026-11-28T00:00:00Z".parse().expect("now");
        let intake = workday(Vec::new());
        let body = body();
        let headers = signed("msg_1", &body, now);
        let a = intake
            .handle(&Request { method: "POST", path: "/hooks/workday", headers: &headers, body: &body }, now)
            .await;
        assert_eq!((a.status, a.outcome.as_str()), (401, "unauthorized"));
        assert!(a.body().contains("no signing secret configured"), "{}", a.body());
        assert_eq!(intake.hand_on.0.load(Ordering::SeqCst), 0);
    }
}
