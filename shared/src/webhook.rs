//! HR's front door, pure part: Standard Webhooks v1 signatures and the webhook body contract.
//!
//! A request carries `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
//! (space-separated `v1,<base64>` entries; any one valid entry suffices, so a sender can rotate).
//! The signature is base64 of HMAC-SHA256 over `{id}.{timestamp}.{raw body}`, keyed with the
//! secret's bytes (`whsec_<base64>`). The body is `{"type", "timestamp", "data"}`, where `data`
//! is exactly the `detail` of the matching detail-type; it maps to the EventBridge envelope the
//! rest of the system reads, and its errors are named in the body's terms (`data.startDate`).
//!
//! No secret, signature or body ever leaves this module in an error or an answer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::ValidationError;
use crate::event::{self, CHANGED, DEPARTED, HIRED, HrEvent, clip};

/// How far a request's timestamp may be from the clock, either way.
pub const TOLERANCE: TimeDelta = TimeDelta::minutes(5);
/// The largest body accepted (EventBridge's own entry limit).
pub const MAX_BODY: usize = 256 * 1024;
/// How long an accepted `webhook-id` is remembered: a resend within it gets the first answer.
pub const REMEMBER: TimeDelta = TimeDelta::hours(24);

pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// The webhook `type`s and the detail-types they map to.
pub const TYPES: [(&str, &str); 3] =
    [("employee.hired", HIRED), ("employee.changed", CHANGED), ("employee.departed", DEPARTED)];

/// A signing secret's key bytes (zeroed when dropped; never printed).
#[derive(Clone)]
pub struct SigningSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(***)")
    }
}

impl SigningSecret {
    /// Reads `whsec_<base64>`. The error never quotes the text.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new("secret", "expected `whsec_` followed by base64 (at least 24 bytes)");
        let b64 = text.trim().strip_prefix("whsec_").ok_or_else(bad)?;
        let bytes = Zeroizing::new(B64.decode(b64).map_err(|_| bad())?);
        if bytes.len() < 24 {
            return Err(bad());
        }
        Ok(Self(bytes))
    }

    /// A new random secret, as text (`whsec_` + 32 random bytes in base64).
    pub fn generate() -> Result<Zeroizing<String>, getrandom::Error> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut())?;
        Ok(Zeroizing::new(format!("whsec_{}", B64.encode(bytes.as_ref()))))
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> hmac::Hmac<sha2::Sha256> {
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` entry for a request: `v1,<base64>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", B64.encode(self.mac(id, &timestamp.to_string(), body).finalize().into_bytes()))
    }
}

/// One or two secrets (whitespace-separated) from a text: a Secrets Manager value, an
/// environment variable, a file. The error names `field`, never the text.
pub fn parse_secrets(text: &str, field: &str) -> Result<Vec<SigningSecret>, ValidationError> {
    let secrets = text
        .split_whitespace()
        .map(SigningSecret::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ValidationError::new(field, e.message))?;
    if secrets.is_empty() || secrets.len() > 2 {
        return Err(ValidationError::new(field, "holds one or two `whsec_` secrets (two during a rotation)"));
    }
    Ok(secrets)
}

/// A source's secrets for `onboarding serve` and `onboarding sign`: from its `secret_env` or
/// `secret_file`.
pub fn local_secrets(src: &crate::config::IntakeSource) -> Result<Vec<SigningSecret>, ValidationError> {
    let field = format!("intake.sources.{}", src.name);
    let text = match (&src.secret_env, &src.secret_file) {
        (Some(var), _) => Zeroizing::new(std::env::var(var).map_err(|_| {
            ValidationError::new(format!("{field}.secret_env"), format!("the environment variable `{var}` is not set"))
        })?),
        (None, Some(path)) => {
            Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                ValidationError::new(format!("{field}.secret_file"), format!("cannot read `{path}`: {e}"))
            })?)
        }
        (None, None) => {
            return Err(ValidationError::new(
                format!("{field}.secret_env"),
                "name where its signing secret is: secret_env or secret_file",
            ));
        }
    };
    parse_secrets(&text, &field)
}

/// Why a request is refused, with the status it gets. Reasons never quote a secret or a
/// signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub outcome: &'static str,
    pub field: Option<String>,
    pub error: String,
}

impl Refusal {
    pub fn new(status: u16, outcome: &'static str, field: Option<&str>, error: impl Into<String>) -> Self {
        Self { status, outcome, field: field.map(str::to_owned), error: error.into() }
    }

    fn unauthorized(field: &str, error: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", Some(field), error)
    }

    /// An invalid body: 400, the field named in the body's terms.
    pub fn invalid(e: ValidationError) -> Self {
        Self::new(400, "rejected", Some(&e.field), e.message)
    }
}

/// The headers a verification reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

impl<'a> Headers<'a> {
    /// From any header list, names compared without case.
    pub fn find(lookup: impl Fn(&str) -> Option<&'a str>) -> Self {
        Self { id: lookup(HEADER_ID), timestamp: lookup(HEADER_TIMESTAMP), signature: lookup(HEADER_SIGNATURE) }
    }
}

/// Checks the signature (any entry, with any of the source's secrets; compared in constant
/// time) and that the timestamp is within [`TOLERANCE`] of `now`. Returns the `webhook-id`.
pub fn verify<'a>(
    secrets: &[SigningSecret],
    headers: &Headers<'a>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<&'a str, Refusal> {
    let missing = |h: &str| Refusal::unauthorized(h, format!("the `{h}` header is required"));
    let id = headers.id.ok_or_else(|| missing(HEADER_ID))?;
    let timestamp = headers.timestamp.ok_or_else(|| missing(HEADER_TIMESTAMP))?;
    let signature = headers.signature.ok_or_else(|| missing(HEADER_SIGNATURE))?;
    if id.is_empty() || id.len() > 256 || !id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Refusal::unauthorized(HEADER_ID, "must be 1-256 printable ASCII characters"));
    }
    let valid = signature.split(' ').filter_map(|entry| entry.strip_prefix("v1,")).any(|sig| {
        let Ok(bytes) = B64.decode(sig) else { return false };
        secrets.iter().any(|s| s.mac(id, timestamp, body).verify_slice(&bytes).is_ok())
    });
    if !valid {
        return Err(Refusal::unauthorized(HEADER_SIGNATURE, "no `v1` signature matches this source's secrets"));
    }
    // The timestamp is checked after the signature: it is signed, so it is the sender's.
    let stale = || {
        Refusal::new(
            400,
            "rejected",
            Some(HEADER_TIMESTAMP),
            format!("must be Unix seconds within {} minutes of now", TOLERANCE.num_minutes()),
        )
    };
    let at = timestamp.parse::<i64>().ok().and_then(|s| DateTime::<Utc>::from_timestamp(s, 0)).ok_or_else(stale)?;
    if (now - at).abs() > TOLERANCE {
        return Err(stale());
    }
    Ok(id)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(rename = "type")]
    kind: String,
    timestamp: String,
    data: Value,
}

/// The body's field for a field of the envelope the body becomes.
fn body_field(envelope_field: &str) -> String {
    match envelope_field {
        "detail-type" => "type".into(),
        "time" => "timestamp".into(),
        "detail" => "data".into(),
        "id" => HEADER_ID.into(),
        f => f.strip_prefix("detail.").map(|rest| format!("data.{rest}")).unwrap_or_else(|| f.to_owned()),
    }
}

/// The EventBridge envelope a webhook body becomes (`id` the `webhook-id`, `source`
/// `hr.{source}`), validated exactly as an event from the bus is, including that its time is not
/// ahead of `now`. Errors name the body's fields (`data.startDate`, `type`, `timestamp`).
pub fn envelope(
    source: &str,
    webhook_id: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(Value, HrEvent), ValidationError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ValidationError::new(
            "(body)",
            format!("malformed JSON at line {}, column {}: {}", e.line(), e.column(), clip(&e.to_string(), 200)),
        )
    })?;
    if !value.is_object() {
        return Err(ValidationError::new("(body)", "expected a JSON object with `type`, `timestamp` and `data`"));
    }
    let body: Body =
        event::deserialize(&value, "").map_err(|e| ValidationError::new(body_field(&e.field), e.message))?;
    let Some((_, detail_type)) = TYPES.iter().find(|(t, _)| *t == body.kind) else {
        return Err(ValidationError::new(
            "type",
            format!(
                "`{}` is not handled; accepted: {}",
                clip(&body.kind, 64),
                TYPES.iter().map(|(t, _)| format!("`{t}`")).collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let envelope = json!({
        "version": "0",
        "id": webhook_id,
        "detail-type": detail_type,
        "source": format!("hr.{source}"),
        "time": body.timestamp,
        "resources": [],
        "detail": body.data,
    });
    let rename = |e: ValidationError| ValidationError::new(body_field(&e.field), e.message);
    let parsed = event::parse(&envelope).map_err(rename)?;
    event::check_time(parsed.meta(), now).map_err(rename)?;
    Ok((envelope, parsed))
}

/// What the intake answers, as JSON: never a secret, a signature or the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    #[serde(skip)]
    pub status: u16,
    pub event_id: Option<String>,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Answer {
    pub fn accepted(event_id: &str) -> Self {
        Self { status: 202, event_id: Some(event_id.to_owned()), outcome: "accepted".into(), error: None, field: None }
    }

    pub fn refused(event_id: Option<&str>, r: Refusal) -> Self {
        Self {
            status: r.status,
            event_id: event_id.map(str::to_owned),
            outcome: r.outcome.into(),
            error: Some(r.error),
            field: r.field,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference library's known answer (standard-webhooks, libraries/rust, `test_sign`).
    const SPEC_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const SPEC_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const SPEC_TS: i64 = 1649367553;
    const SPEC_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const SPEC_SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn at(ts: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(ts, 0).expect("time")
    }

    fn headers<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> Headers<'a> {
        Headers { id: Some(id), timestamp: Some(ts), signature: Some(sig) }
    }

    #[test]
    fn the_specs_known_answer() {
        let s = SigningSecret::parse(SPEC_SECRET).expect("secret");
        assert_eq!(s.sign(SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIGNATURE);
        let ts = SPEC_TS.to_string();
        assert_eq!(verify(&[s], &headers(SPEC_ID, &ts, SPEC_SIGNATURE), SPEC_BODY, at(SPEC_TS)), Ok(SPEC_ID));
    }

    #[test]
    fn any_entry_with_any_secret_verifies_so_senders_can_rotate() {
        let old = SigningSecret::parse(SPEC_SECRET).expect("old");
        let new = SigningSecret::parse(&SigningSecret::generate().expect("random")).expect("new");
        let ts = SPEC_TS.to_string();
        let both = format!("v1,AAAA {} v1a,xyz", new.sign(SPEC_ID, SPEC_TS, SPEC_BODY));
        // The receiver holds both secrets during a rotation; the sender signs with either.
        let secrets = [old.clone(), new.clone()];
        assert!(verify(&secrets, &headers(SPEC_ID, &ts, &both), SPEC_BODY, at(SPEC_TS)).is_ok());
        assert!(verify(&secrets, &headers(SPEC_ID, &ts, SPEC_SIGNATURE), SPEC_BODY, at(SPEC_TS)).is_ok());
        // After the rotation, the old signature no longer verifies.
        let e = verify(&[new], &headers(SPEC_ID, &ts, SPEC_SIGNATURE), SPEC_BODY, at(SPEC_TS)).expect_err("old");
        assert_eq!((e.status, e.field.as_deref()), (401, Some(HEADER_SIGNATURE)));
    }

    #[test]
    fn tampering_a_wrong_secret_or_a_missing_header_is_401() {
        let s = SigningSecret::parse(SPEC_SECRET).expect("secret");
        let ts = SPEC_TS.to_string();
        let tampered = br#"{"email":"evil@example.com","username":"test_user"}"#;
        let wrong = SigningSecret::parse(&SigningSecret::generate().expect("random")).expect("wrong");
        for (secrets, h, body) in [
            (vec![s.clone()], headers(SPEC_ID, &ts, SPEC_SIGNATURE), &tampered[..]),
            (vec![wrong], headers(SPEC_ID, &ts, SPEC_SIGNATURE), SPEC_BODY),
            (vec![s.clone()], headers("msg_other", &ts, SPEC_SIGNATURE), SPEC_BODY),
            (vec![s.clone()], headers(SPEC_ID, &ts, "v1,not base64!"), SPEC_BODY),
            (vec![], headers(SPEC_ID, &ts, SPEC_SIGNATURE), SPEC_BODY),
        ] {
            let e = verify(&secrets, &h, body, at(SPEC_TS)).expect_err("refused");
            assert_eq!((e.status, e.outcome), (401, "unauthorized"), "{e:?}");
            assert!(!e.error.contains("tZ1I4"), "never quotes the signature");
        }
        for missing in [HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE] {
            let mut h = headers(SPEC_ID, &ts, SPEC_SIGNATURE);
            match missing {
                HEADER_ID => h.id = None,
                HEADER_TIMESTAMP => h.timestamp = None,
                _ => h.signature = None,
            }
            let e = verify(std::slice::from_ref(&s), &h, SPEC_BODY, at(SPEC_TS)).expect_err("missing");
            assert_eq!((e.status, e.field.as_deref()), (401, Some(missing)));
        }
    }

    #[test]
    fn stale_and_future_timestamps_are_400() {
        let s = SigningSecret::parse(SPEC_SECRET).expect("secret");
        let ts = SPEC_TS.to_string();
        for now in [SPEC_TS + 301, SPEC_TS - 301] {
            let e = verify(std::slice::from_ref(&s), &headers(SPEC_ID, &ts, SPEC_SIGNATURE), SPEC_BODY, at(now))
                .expect_err("stale");
            assert_eq!((e.status, e.field.as_deref()), (400, Some(HEADER_TIMESTAMP)));
        }
        for now in [SPEC_TS + 300, SPEC_TS - 300] {
            assert!(
                verify(std::slice::from_ref(&s), &headers(SPEC_ID, &ts, SPEC_SIGNATURE), SPEC_BODY, at(now)).is_ok()
            );
        }
    }

    #[test]
    fn secrets_must_be_whsec_base64_and_never_print() {
        for bad in ["", "whsec_", "whsec_!!!", "C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "whsec_c2hvcnQ="] {
            let e = SigningSecret::parse(bad).expect_err(bad);
            assert_eq!(e.field, "secret");
        }
        let s = SigningSecret::parse(SPEC_SECRET).expect("secret");
        assert_eq!(format!("{s:?}"), "SigningSecret(***)");
    }

    fn hire_body(start: &str) -> Vec<u8> {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/hire-engineering.json"))
            .expect("sample");
        let sample: Value = serde_json::from_str(&text).expect("json");
        let mut data = sample["detail"].clone();
        data["startDate"] = json!(start);
        json!({"type": "employee.hired", "timestamp": "2026-11-20T09:00:00Z", "data": data}).to_string().into_bytes()
    }

    #[test]
    fn a_body_maps_to_the_envelope_and_errors_name_the_bodys_fields() {
        let now = at(1_800_000_000);
        let (env, parsed) = envelope("workday", "msg_1", &hire_body("2026-11-23"), now).expect("valid");
        assert_eq!(env["source"], "hr.workday");
        assert_eq!(env["id"], "msg_1");
        assert_eq!(env["detail-type"], HIRED);
        assert_eq!(parsed.meta().event_id, "hr-evt-1001");

        let e = envelope("workday", "msg_1", &hire_body("2026-13-01"), now).expect_err("bad date");
        assert_eq!(e.field, "data.startDate");
        let bad = |v: Value| envelope("workday", "m", v.to_string().as_bytes(), now).expect_err("refused").field;
        assert_eq!(bad(json!({"type": "employee.fired", "timestamp": "2026-11-20T09:00:00Z", "data": {}})), "type");
        assert_eq!(bad(json!({"type": "employee.hired", "timestamp": "yesterday", "data": {}})), "timestamp");
        assert_eq!(bad(json!({"type": "employee.hired", "timestamp": "2026-11-20T09:00:00Z"})), "data");
        assert_eq!(
            bad(json!({"type": "employee.hired", "timestamp": "2026-11-20T09:00:00Z", "data": {}, "x": 1})),
            "x"
        );
        assert_eq!(bad(json!([1])), "(body)");
        let future = json!({"type": "employee.departed", "timestamp": "2099-01-01T00:00:00Z",
            "data": {"eventId": "e", "employeeId": "E1", "lastDay": "2099-01-01"}});
        assert_eq!(bad(future), "timestamp");
        let e = envelope("workday", "m", b"{\"type\": ", now).expect_err("malformed");
        assert!(e.message.contains("line 1"), "{e}");
    }

    /// `events/webhooks/X.json` is the webhook body of `events/X.json`: the same event, posted.
    #[test]
    fn the_sample_webhook_bodies_are_the_sample_events() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
        let mut n = 0;
        for entry in std::fs::read_dir(format!("{dir}/webhooks")).expect("events/webhooks") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            let body = std::fs::read(&path).expect("body");
            let (env, _) =
                envelope("workday", "msg", &body, at(1_800_000_000)).unwrap_or_else(|e| panic!("{name}: {e}"));
            let event: Value =
                serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{name}")).expect("event")).expect("json");
            for key in ["detail-type", "time", "detail", "source"] {
                assert_eq!(env[key], event[key], "{name}: {key}");
            }
            n += 1;
        }
        assert!(n >= 8, "every sample event has its webhook body");
    }

    #[test]
    fn the_answer_never_carries_the_body_or_a_signature() {
        let a = Answer::refused(Some("msg_1"), Refusal::unauthorized(HEADER_SIGNATURE, "no match"));
        let body = a.body();
        assert_eq!(a.status, 401);
        assert_eq!(serde_json::from_str::<Value>(&body).expect("json")["field"], HEADER_SIGNATURE);
        assert!(!body.contains("status"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 10_000, failure_persistence: None, ..Default::default() })]

        /// No panic on any header or body bytes; every refusal names a header or a field.
        #[test]
        fn any_headers_and_body_are_answered(
            id in proptest::option::of("\\PC{0,40}"),
            ts in proptest::option::of("[0-9a-z+-]{0,14}"),
            sig in proptest::option::of("[ -~]{0,120}"),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
        ) {
            let s = SigningSecret::parse(SPEC_SECRET).expect("secret");
            let h = Headers { id: id.as_deref(), timestamp: ts.as_deref(), signature: sig.as_deref() };
            if let Err(e) = verify(&[s], &h, &body, at(SPEC_TS)) {
                proptest::prop_assert!(e.field.is_some() && !e.error.is_empty());
            }
            if let Err(e) = envelope("workday", "m", &body, at(SPEC_TS)) {
                proptest::prop_assert!(!e.field.is_empty() && !e.message.is_empty() && e.message.len() < 1_000, "{e}");
            }
        }
    }
}
