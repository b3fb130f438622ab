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
pub const CHANGED: &str = "Employee Changed";
pub const DEPARTED: &str = "Employee Departed";
/// The detail-types this version handles.
pub const ACCEPTED_DETAIL_TYPES: &[&str] = &[HIRED, CHANGED, DEPARTED];

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
    Changed(Change),
    Departed(Departure),
}

impl HrEvent {
    pub fn meta(&self) -> &EventMeta {
        match self {
            HrEvent::Hired(h) => &h.meta,
            HrEvent::Changed(c) => &c.meta,
            HrEvent::Departed(d) => &d.meta,
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

/// `detail` of an `Employee Changed` event: the attributes that changed, at least one.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChangeDetail {
    event_id: String,
    employee_id: String,
    preferred_name: Option<String>,
    email: Option<String>,
    department: Option<String>,
    title: Option<String>,
    manager_email: Option<String>,
    cost_center: Option<String>,
    location: Option<String>,
}

/// A validated change of HR attributes. The user name never changes with them.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub meta: EventMeta,
    pub preferred_name: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    pub manager_email: Option<String>,
    pub cost_center: Option<String>,
    pub location: Option<String>,
}

/// `detail` of an `Employee Departed` event.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DepartureDetail {
    event_id: String,
    employee_id: String,
    last_day: String,
    immediate: Option<bool>,
    reason: Option<String>,
}

/// A validated departure.
#[derive(Debug, Clone, PartialEq)]
pub struct Departure {
    pub meta: EventMeta,
    /// The last working day, in the configured time zone; access ends when it ends.
    pub last_day: NaiveDate,
    /// Termination effective now, whatever the last day says.
    pub immediate: bool,
    pub reason: Option<String>,
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
        CHANGED => {
            let d: ChangeDetail = deserialize(&env.detail, "detail.")?;
            Ok(HrEvent::Changed(validate_change(&env, d)?))
        }
        DEPARTED => {
            let d: DepartureDetail = deserialize(&env.detail, "detail.")?;
            Ok(HrEvent::Departed(Departure {
                meta: meta(&env, &d.event_id, &d.employee_id)?,
                last_day: date("detail.lastDay", &d.last_day)?,
                immediate: d.immediate.unwrap_or(false),
                reason: opt(d.reason, |v| text("detail.reason", &v, MAX_ATTRIBUTE_CHARS))?,
            }))
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

/// How far an event's `time` may be ahead of the clock (senders' clocks drift a little).
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Refuses an event from the future: its `time` would become the person's `last-event-time`
/// and make every real event after it look stale (including their departure).
pub fn check_time(meta: &EventMeta, now: DateTime<Utc>) -> Result<(), ValidationError> {
    if meta.time > now + MAX_CLOCK_SKEW {
        return Err(ValidationError::new(
            "time",
            format!(
                "`{}` is more than 5 minutes ahead of the clock ({}); expected the moment HR made the event",
                meta.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ));
    }
    Ok(())
}

/// Best-effort ids of an event that may not parse, for the failed audit record: each only if it
/// is a well-formed id (a raw value never becomes a message attribute or a log field).
pub fn ids_of(value: &Value) -> (Option<String>, Option<String>) {
    let get = |k: &str| value.get("detail").and_then(|d| d.get(k)).and_then(Value::as_str);
    (
        get("eventId").and_then(|v| event_id("detail.eventId", v).ok()),
        get("employeeId").and_then(|v| employee_id("detail.employeeId", v).ok()),
    )
}

fn event_id(field: &str, v: &str) -> Result<String, ValidationError> {
    token(field, v, 128, |c| c.is_ascii_alphanumeric() || "-_.:/".contains(c))
}

fn employee_id(field: &str, v: &str) -> Result<String, ValidationError> {
    token(field, v, 64, |c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

pub(crate) fn deserialize<T: DeserializeOwned>(value: &Value, prefix: &str) -> Result<T, ValidationError> {
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
            // serde quotes the value it refused (`invalid type: string "…", expected …`): keep
            // what was expected, and only the start of what came.
            let message = match inner.split_once(", expected") {
                Some((got, expected)) => format!("{}, expected{}", clip(got, 96), clip(expected, 200)),
                None => clip(&inner, 300),
            };
            ValidationError::new(if field.is_empty() { "(event)".into() } else { clip(&field, 96) }, message)
        }
    })
}

/// The ids and envelope fields every event carries, checked.
fn meta(env: &Envelope, event_id: &str, employee_id: &str) -> Result<EventMeta, ValidationError> {
    Ok(EventMeta {
        event_id: self::event_id("detail.eventId", event_id)?,
        employee_id: self::employee_id("detail.employeeId", employee_id)?,
        detail_type: env.detail_type.clone(),
        source: text("source", &env.source, MAX_ATTRIBUTE_CHARS)?,
        time: env.time,
        envelope_id: text("id", &env.id, MAX_ATTRIBUTE_CHARS)?,
    })
}

fn validate_change(env: &Envelope, d: ChangeDetail) -> Result<Change, ValidationError> {
    let c = Change {
        meta: meta(env, &d.event_id, &d.employee_id)?,
        preferred_name: opt(d.preferred_name, |v| text("detail.preferredName", &v, MAX_NAME_CHARS))?,
        email: opt(d.email, |v| email("detail.email", &v))?,
        department: opt(d.department, |v| text("detail.department", &v, 128))?,
        title: opt(d.title, |v| text("detail.title", &v, MAX_ATTRIBUTE_CHARS))?,
        manager_email: opt(d.manager_email, |v| email("detail.managerEmail", &v))?,
        cost_center: opt(d.cost_center, |v| text("detail.costCenter", &v, MAX_ATTRIBUTE_CHARS))?,
        location: opt(d.location, |v| text("detail.location", &v, MAX_ATTRIBUTE_CHARS))?,
    };
    let none = [&c.preferred_name, &c.email, &c.department, &c.title, &c.manager_email, &c.cost_center, &c.location]
        .iter()
        .all(|v| v.is_none());
    if none {
        return Err(ValidationError::new(
            "detail",
            "names no changed attribute; expected at least one of `preferredName`, `email`, `department`, \
             `title`, `managerEmail`, `costCenter`, `location`",
        ));
    }
    Ok(c)
}

fn validate_hire(env: &Envelope, d: HireDetail) -> Result<Hire, ValidationError> {
    let meta = meta(env, &d.event_id, &d.employee_id)?;
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
    if let Some(c) = t.chars().find(|&c| invisible(c)) {
        return Err(ValidationError::new(
            field,
            format!(
                "must not contain invisible or direction-changing formatting characters (found U+{:04X}); \
                 expected plain text",
                c as u32
            ),
        ));
    }
    Ok(t.to_owned())
}

/// Formatting characters that change how text around them is shown without being seen: the
/// bidirectional overrides and isolates (the "Trojan Source" characters), zero-width
/// characters, the word joiner and invisible operators, the BOM, interlinear annotations and
/// tag characters. Text with them could make a message say something other than it reads.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
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

/// An email address, trimmed; the error names `field` and shows the accepted shape.
pub fn email(field: &str, v: &str) -> Result<String, ValidationError> {
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
pub fn clip(s: &str, max: usize) -> String {
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
        let HrEvent::Hired(h) = parse(&hire()).expect("valid") else { panic!("not a hire") };
        assert_eq!(h.meta.employee_id, "E1001");
        assert_eq!(h.meta.event_id, "evt-1");
        assert_eq!(h.access, Access { console: true, programmatic: false });
        assert_eq!(h.start_date, NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"));
        assert_eq!(h.first_name(), "Zoë");
    }

    /// The sample hire with the value at `field` (dotted, as errors name fields) set to `value`,
    /// which must be rejected.
    fn rejected(field: &str, value: Value) -> ValidationError {
        let mut v = hire();
        let slot = field.split('.').fold(&mut v, |slot, key| &mut slot[key]);
        *slot = value;
        err(&v)
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
        let e = rejected("detail.department", json!("   "));
        assert_eq!((e.field.as_str(), e.message.as_str()), ("detail.department", "must not be empty"));
    }

    #[test]
    fn each_bad_value_is_rejected_naming_its_field_and_what_would_be_accepted() {
        let mut cases: Vec<(String, Value, &str)> = Vec::new();
        for bad in ["2026-02-30", "01/12/2026", "2026-1-1", "tomorrow", ""] {
            cases.push(("detail.startDate".into(), json!(bad), "YYYY-MM-DD"));
        }
        for key in ["groups", "policies", "policyArns"] {
            cases.push((format!("detail.{key}"), json!(["AdministratorAccess"]), "not part of the contract"));
        }
        cases.push(("detail-type".into(), json!("Employee Promoted"), "`Employee Hired`"));
        cases.push(("detail.familyName".into(), json!("x".repeat(5000)), "at most 128 characters (got 5000)"));
        cases.push(("detail.employeeId".into(), json!(42), "expected a string"));
        cases.push(("detail.access.console".into(), json!("yes"), "expected a boolean"));
        cases.push(("detail.email".into(), json!("not-an-email"), "an email address like"));
        cases.push(("detail.employeeId".into(), json!("E 1"), "accepted: ASCII letters"));
        for (field, value, says) in cases {
            let e = rejected(&field, value);
            assert_eq!(e.field, field, "{says}");
            assert!(e.message.contains(says), "{field}: {e}");
        }
        // Only console access switched off leaves no access: the error names `access`.
        assert_eq!(rejected("detail.access", json!({"console": false})).field, "detail.access");
    }

    #[test]
    fn malformed_json_and_a_non_object_are_named() {
        let e = parse_str("{\"detail-type\": ").expect_err("malformed");
        assert!(e.message.starts_with("malformed JSON"), "{e}");
        assert_eq!(err(&json!([1, 2])).field, "(event)");
    }

    #[test]
    fn parses_departures_and_changes() {
        let mut v = hire();
        v["detail-type"] = json!(DEPARTED);
        v["detail"] = json!({"eventId": "d1", "employeeId": "E1001", "lastDay": "2027-01-31", "immediate": true});
        let HrEvent::Departed(d) = parse(&v).expect("valid") else { panic!("not a departure") };
        assert_eq!((d.last_day.to_string().as_str(), d.immediate), ("2027-01-31", true));
        v["detail"] = json!({"eventId": "d1", "employeeId": "E1001"});
        assert_eq!(err(&v).field, "detail.lastDay");
        v["detail"] = json!({"eventId": "d1", "employeeId": "E1001", "lastDay": "31.01.2027"});
        assert_eq!(err(&v).field, "detail.lastDay");

        v["detail-type"] = json!(CHANGED);
        v["detail"] = json!({"eventId": "c1", "employeeId": "E1001", "department": "Finance"});
        let HrEvent::Changed(c) = parse(&v).expect("valid") else { panic!("not a change") };
        assert_eq!(c.department.as_deref(), Some("Finance"));
        v["detail"] = json!({"eventId": "c1", "employeeId": "E1001"});
        let e = err(&v);
        assert!(e.field == "detail" && e.message.contains("department"), "{e}");
        v["detail"] = json!({"eventId": "c1", "employeeId": "E1001", "familyName": "Smith"});
        assert_eq!(err(&v).field, "detail.familyName", "a name change does not rename the user");
        v["detail"] = json!({"eventId": "c1", "employeeId": "E1001", "groups": ["Admins"]});
        assert!(err(&v).message.contains("not part of the contract"));
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_refused_by_field() {
        for (field, path) in
            [("givenName", "detail.givenName"), ("familyName", "detail.familyName"), ("title", "detail.title")]
        {
            for c in ['\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}', '\u{E0041}'] {
                let e = rejected(&format!("detail.{field}"), json!(format!("Ann{c}a")));
                assert_eq!(e.field, path, "{c:?}");
                assert!(e.message.contains("invisible"), "{e}");
            }
        }
        let mut d = json!({"id": "x", "detail-type": "Employee Departed", "source": "hr", "time": "2026-11-02T09:00:00Z",
            "detail": {"eventId": "d1", "employeeId": "E1", "lastDay": "2026-11-30", "reason": "re\u{202E}ason"}});
        assert_eq!(err(&d).field, "detail.reason");
        d["detail"]["reason"] = json!("Résumé – end of contract");
        assert!(parse(&d).is_ok(), "ordinary accents and dashes stay accepted");
    }

    #[test]
    fn an_event_from_the_future_is_refused_naming_time() {
        let HrEvent::Hired(h) = parse(&hire()).expect("valid") else { panic!("not a hire") };
        let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("t").with_timezone(&Utc);
        assert!(check_time(&h.meta, at("2026-11-02T08:55:00Z")).is_ok(), "5 minutes of skew are tolerated");
        let e = check_time(&h.meta, at("2026-11-02T08:54:59Z")).expect_err("future");
        assert_eq!(e.field, "time");
        assert!(e.message.contains("2026-11-02T09:00:00Z"), "{e}");
        assert!(check_time(&h.meta, at("2030-01-01T00:00:00Z")).is_ok(), "old events are fine");
    }

    #[test]
    fn ids_of_survives_garbage() {
        assert_eq!(ids_of(&json!(null)), (None, None));
        assert_eq!(ids_of(&hire()), (Some("evt-1".into()), Some("E1001".into())));
        let mut bad = hire();
        bad["detail"]["employeeId"] = json!("E1\u{202E}; rm -rf");
        assert_eq!(ids_of(&bad), (Some("evt-1".into()), None), "a malformed id is never passed on");
    }
}
