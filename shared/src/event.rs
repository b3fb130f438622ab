//! The HR event contract: an EventBridge envelope whose `detail` depends on `detail-type`.
//!
//! Parsing is strict: unknown fields in `detail` are rejected (an event cannot smuggle in groups
//! or policies), every error names the field by its JSON path and says what would be accepted.

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ValidationError;

pub const HIRED: &str = "Employee Hired";
/// The detail-types this version handles.
pub const ACCEPTED_DETAIL_TYPES: &[&str] = &[HIRED];

/// Longest accepted name field, in characters. Real names fit easily; thousands do not.
pub const MAX_NAME_CHARS: usize = 128;
/// Longest accepted free-text attribute (the longest IAM tag value).
pub const MAX_ATTRIBUTE_CHARS: usize = 256;

/// The EventBridge envelope. Fields EventBridge adds (`account`, `region`, `resources`) are
/// accepted and ignored.
#[derive(Debug, Clone, Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    source: String,
    time: DateTime<Utc>,
    detail: Value,
}

/// A parsed, validated HR event.
#[derive(Debug, Clone, PartialEq)]
pub enum HrEvent {
    Hired(Hire),
}

impl HrEvent {
    pub fn meta(&self) -> &EventMeta {
        match self {
            HrEvent::Hired(h) => &h.meta,
        }
    }
}

/// What every event carries besides its detail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventMeta {
    /// HR's id for this event (`detail.eventId`): the idempotency key.
    pub event_id: String,
    /// The person's immutable identity.
    pub employee_id: String,
    pub detail_type: String,
    pub source: String,
    pub time: DateTime<Utc>,
    /// The envelope's own id (EventBridge's).
    pub envelope_id: String,
}

/// Which kinds of access a new hire gets. Default: console only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    #[serde(default = "yes")]
    pub console: bool,
    #[serde(default)]
    pub programmatic: bool,
}

fn yes() -> bool {
    true
}

impl Default for Access {
    fn default() -> Self {
        Self { console: true, programmatic: false }
    }
}

/// `detail` of an `Employee Hired` event, as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HireDetail {
    event_id: String,
    employee_id: String,
    given_name: String,
    family_name: String,
    email: String,
    department: String,
    start_date: String,
    preferred_name: Option<String>,
    title: Option<String>,
    manager_email: Option<String>,
    cost_center: Option<String>,
    location: Option<String>,
    access: Option<Access>,
}

/// A validated new hire.
#[derive(Debug, Clone, PartialEq)]
pub struct Hire {
    pub meta: EventMeta,
    pub given_name: String,
    pub family_name: String,
    pub preferred_name: Option<String>,
    pub email: String,
    pub department: String,
    pub start_date: NaiveDate,
    pub title: Option<String>,
    pub manager_email: Option<String>,
    pub cost_center: Option<String>,
    pub location: Option<String>,
    pub access: Access,
}

impl Hire {
    /// The name the person goes by.
    pub fn first_name(&self) -> &str {
        self.preferred_name.as_deref().unwrap_or(&self.given_name)
    }
}

/// Parses raw JSON text (one event).
pub fn parse_str(text: &str) -> Result<HrEvent, ValidationError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| ValidationError::new("(event)", format!("malformed JSON: {e}")))?;
    parse(&value)
}

/// Parses and validates one event.
pub fn parse(value: &Value) -> Result<HrEvent, ValidationError> {
    if !value.is_object() {
        return Err(ValidationError::new(
            "(event)",
            "expected a JSON object (an EventBridge event with `detail-type` and `detail`)",
        ));
    }
    let env: Envelope = deserialize(value, "")?;
    match env.detail_type.as_str() {
        HIRED => {
            let d: HireDetail = deserialize(&env.detail, "detail.")?;
            Ok(HrEvent::Hired(validate_hire(&env, d)?))
        }
        other => Err(ValidationError::new(
            "detail-type",
            format!(
                "`{}` is not handled; accepted: {}",
                clip(other, 64),
                ACCEPTED_DETAIL_TYPES.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// Best-effort ids of an event that may not parse, for the failed audit record.
pub fn ids_of(value: &Value) -> (Option<String>, Option<String>) {
    let get = |k: &str| value.get("detail").and_then(|d| d.get(k)).and_then(Value::as_str).map(|s| clip(s, 128));
    (get("eventId"), get("employeeId"))
}

fn deserialize<T: DeserializeOwned>(value: &Value, prefix: &str) -> Result<T, ValidationError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde reports missing and unknown fields at the parent; name the field itself.
        let named =
            |marker: &str| inner.strip_prefix(marker).and_then(|rest| rest.split('`').next()).map(str::to_owned);
        let base = if path == "." { String::new() } else { format!("{path}.") };
        if let Some(f) = named("missing field `") {
            ValidationError::new(format!("{prefix}{base}{f}"), "is required")
        } else if let Some(f) = named("unknown field `") {
            let expected = inner.split_once(", expected").map(|x| x.1).unwrap_or("");
            // serde_path_to_error already ends the path with the unknown field.
            let field = if path.rsplit('.').next() == Some(f.as_str()) { path.clone() } else { format!("{base}{f}") };
            ValidationError::new(
                format!("{prefix}{}", clip(&field, 64)),
                format!(
                    "is not part of the contract (groups and permissions come only from the \
                     configuration's mapping rules); expected{expected}"
                ),
            )
        } else {
            let field = if path == "." { prefix.trim_end_matches('.').to_owned() } else { format!("{prefix}{path}") };
            ValidationError::new(if field.is_empty() { "(event)".into() } else { field }, inner)
        }
    })
}

fn validate_hire(env: &Envelope, d: HireDetail) -> Result<Hire, ValidationError> {
    let event_id = token("detail.eventId", &d.event_id, 128, |c| c.is_ascii_alphanumeric() || "-_.:/".contains(c))?;
    let employee_id =
        token("detail.employeeId", &d.employee_id, 64, |c| c.is_ascii_alphanumeric() || "-_.".contains(c))?;
    let meta = EventMeta {
        event_id,
        employee_id,
        detail_type: env.detail_type.clone(),
        source: text("source", &env.source, MAX_ATTRIBUTE_CHARS)?,
        time: env.time,
        envelope_id: text("id", &env.id, MAX_ATTRIBUTE_CHARS)?,
    };
    let access = d.access.unwrap_or_default();
    if !access.console && !access.programmatic {
        return Err(ValidationError::new("detail.access", "at least one of `console` and `programmatic` must be true"));
    }
    Ok(Hire {
        meta,
        given_name: text("detail.givenName", &d.given_name, MAX_NAME_CHARS)?,
        family_name: text("detail.familyName", &d.family_name, MAX_NAME_CHARS)?,
        preferred_name: opt(d.preferred_name, |v| text("detail.preferredName", &v, MAX_NAME_CHARS))?,
        email: email("detail.email", &d.email)?,
        department: text("detail.department", &d.department, 128)?,
        start_date: date("detail.startDate", &d.start_date)?,
        title: opt(d.title, |v| text("detail.title", &v, MAX_ATTRIBUTE_CHARS))?,
        manager_email: opt(d.manager_email, |v| email("detail.managerEmail", &v))?,
        cost_center: opt(d.cost_center, |v| text("detail.costCenter", &v, MAX_ATTRIBUTE_CHARS))?,
        location: opt(d.location, |v| text("detail.location", &v, MAX_ATTRIBUTE_CHARS))?,
        access,
    })
}

fn opt<F>(v: Option<String>, f: F) -> Result<Option<String>, ValidationError>
where
    F: FnOnce(String) -> Result<String, ValidationError>,
{
    v.map(f).transpose()
}

/// Free text: trimmed, not empty, no control characters, at most `max` characters.
fn text(field: &str, v: &str, max: usize) -> Result<String, ValidationError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    let n = t.chars().count();
    if n > max {
        return Err(ValidationError::new(field, format!("must be at most {max} characters (got {n})")));
    }
    if t.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(t.to_owned())
}

/// An identifier: not empty, at most `max` characters, each accepted by `ok`.
fn token(field: &str, v: &str, max: usize, ok: impl Fn(char) -> bool) -> Result<String, ValidationError> {
    let t = text(field, v, max)?;
    if let Some(bad) = t.chars().find(|&c| !ok(c)) {
        return Err(ValidationError::new(
            field,
            format!(
                "contains {bad:?}; accepted: ASCII letters, digits and {}",
                if field.ends_with("eventId") { "- _ . : /" } else { "- _ ." }
            ),
        ));
    }
    Ok(t)
}

fn email(field: &str, v: &str) -> Result<String, ValidationError> {
    let t = text(field, v, 254)?;
    let bad = || ValidationError::new(field, "must be an email address like `jane.doe@example.com`");
    let (local, domain) = t.split_once('@').ok_or_else(bad)?;
    let ok_chars = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c));
    if local.is_empty()
        || !ok_chars(local)
        || !ok_chars(domain)
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(t)
}

fn date(field: &str, v: &str) -> Result<NaiveDate, ValidationError> {
    let t = v.trim();
    let bad = || {
        ValidationError::new(field, format!("`{}` is not a date; expected YYYY-MM-DD, e.g. 2026-03-01", clip(t, 32)))
    };
    if t.len() != 10 {
        return Err(bad());
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| bad())
}

/// At most `max` characters of `s`, for echoing untrusted input in an error.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hire() -> Value {
        json!({
            "version": "0", "id": "e1", "detail-type": "Employee Hired", "source": "hr.workday",
            "account": "123456789012", "time": "2026-11-02T09:00:00Z", "region": "eu-west-1",
            "resources": [],
            "detail": {
                "eventId": "evt-1", "employeeId": "E1001", "givenName": "Zoë", "familyName": "O'Brien",
                "email": "zoe.obrien@example.com", "department": "Engineering", "startDate": "2026-12-01"
            }
        })
    }

    fn err(v: &Value) -> ValidationError {
        parse(v).expect_err("should be rejected")
    }

    #[test]
    fn parses_a_minimal_hire_with_defaults() {
        let HrEvent::Hired(h) = parse(&hire()).expect("valid");
        assert_eq!(h.meta.employee_id, "E1001");
        assert_eq!(h.meta.event_id, "evt-1");
        assert_eq!(h.access, Access { console: true, programmatic: false });
        assert_eq!(h.start_date, NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"));
        assert_eq!(h.first_name(), "Zoë");
    }

    #[test]
    fn missing_field_is_named() {
        let mut v = hire();
        v["detail"].as_object_mut().expect("obj").remove("givenName");
        let e = err(&v);
        assert_eq!(e.field, "detail.givenName");
        assert_eq!(e.message, "is required");
    }

    #[test]
    fn empty_field_is_named() {
        let mut v = hire();
        v["detail"]["department"] = json!("   ");
        let e = err(&v);
        assert_eq!((e.field.as_str(), e.message.as_str()), ("detail.department", "must not be empty"));
    }

    #[test]
    fn bad_dates_are_rejected() {
        for bad in ["2026-02-30", "01/12/2026", "2026-1-1", "tomorrow", ""] {
            let mut v = hire();
            v["detail"]["startDate"] = json!(bad);
            let e = err(&v);
            assert_eq!(e.field, "detail.startDate", "{bad}");
            assert!(e.message.contains("YYYY-MM-DD") || e.message.contains("empty"), "{e}");
        }
    }

    #[test]
    fn smuggled_groups_and_policies_are_rejected() {
        for key in ["groups", "policies", "policyArns"] {
            let mut v = hire();
            v["detail"][key] = json!(["AdministratorAccess"]);
            let e = err(&v);
            assert_eq!(e.field, format!("detail.{key}"));
            assert!(e.message.contains("not part of the contract"), "{e}");
        }
    }

    #[test]
    fn unknown_detail_type_lists_what_is_accepted() {
        let mut v = hire();
        v["detail-type"] = json!("Employee Promoted");
        let e = err(&v);
        assert_eq!(e.field, "detail-type");
        assert!(e.message.contains("`Employee Hired`"), "{e}");
    }

    #[test]
    fn absurd_length_is_rejected_with_the_count() {
        let mut v = hire();
        v["detail"]["familyName"] = json!("x".repeat(5000));
        let e = err(&v);
        assert_eq!(e.field, "detail.familyName");
        assert!(e.message.contains("5000"), "{e}");
    }

    #[test]
    fn wrong_types_and_malformed_json_are_named() {
        let mut v = hire();
        v["detail"]["employeeId"] = json!(42);
        assert_eq!(err(&v).field, "detail.employeeId");
        let mut v = hire();
        v["detail"]["access"] = json!({"console": "yes"});
        assert_eq!(err(&v).field, "detail.access.console");
        let e = parse_str("{\"detail-type\": ").expect_err("malformed");
        assert!(e.message.starts_with("malformed JSON"), "{e}");
        assert_eq!(err(&json!([1, 2])).field, "(event)");
    }

    #[test]
    fn bad_emails_and_ids() {
        let mut v = hire();
        v["detail"]["email"] = json!("not-an-email");
        assert_eq!(err(&v).field, "detail.email");
        let mut v = hire();
        v["detail"]["employeeId"] = json!("E 1");
        assert_eq!(err(&v).field, "detail.employeeId");
        let mut v = hire();
        v["detail"]["access"] = json!({"console": false});
        assert_eq!(err(&v).field, "detail.access");
    }

    #[test]
    fn ids_of_survives_garbage() {
        assert_eq!(ids_of(&json!(null)), (None, None));
        assert_eq!(ids_of(&hire()), (Some("evt-1".into()), Some("E1001".into())));
    }
}
