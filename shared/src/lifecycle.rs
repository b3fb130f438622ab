//! The employee lifecycle in time, without I/O: when a pre-hire becomes active, when a leaver is
//! disabled and deleted, and which events are stale. (The mass-departure guard: [`crate::person::guard`].)
//!
//! Due dates live on the user as tags ([`crate::tags::LIFECYCLE_KEYS`]); this module reads and
//! computes them. HR's dates are days in the configured time zone: a day starts at local midnight.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, SecondsFormat, TimeZone, Utc};
use jiff::tz::TimeZone as Tz;
use serde::{Deserialize, Serialize};

use crate::config::LifecycleConfig;
use crate::tags::{ACCESS_REVOKED, ACTIVATE_AT, DELETE_AT, DISABLE_AT, LAST_EVENT_TIME, STATUS};

/// Where a user is in the lifecycle. A user without the status tag (made before it existed) is
/// active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Created ahead of the start date: no console access and no welcome yet.
    Pending,
    Active,
    /// A leaver: no way to sign in or call AWS, in no group, awaiting deletion.
    Disabled,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Disabled => "disabled",
        }
    }

    pub fn of(tags: &BTreeMap<String, String>) -> Self {
        match tags.get(STATUS).map(String::as_str) {
            Some("pending") => Status::Pending,
            Some("disabled") => Status::Disabled,
            _ => Status::Active,
        }
    }
}

/// Local midnight starting `day` in `tz`, as UTC. Where midnight does not exist (a DST gap),
/// the first instant of the day that does.
pub fn start_of_day(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let utc_midnight = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default());
    let (Ok(year), Ok(month), Ok(date)) =
        (i16::try_from(day.year()), i8::try_from(day.month()), i8::try_from(day.day()))
    else {
        return utc_midnight; // outside jiff's years -9999..=9999: no HR date is
    };
    jiff::civil::Date::new(year, month, date)
        .and_then(|d| d.to_zoned(tz))
        .and_then(|z| z.start_of_day())
        .ok()
        .and_then(|z| DateTime::from_timestamp(z.timestamp().as_second(), 0))
        .unwrap_or(utc_midnight)
}

/// When a hire starting on `start` gets console access and the welcome.
pub fn activation_time(start: NaiveDate, cfg: &LifecycleConfig) -> DateTime<Utc> {
    start_of_day(start.checked_sub_days(Days::new(cfg.lead_days.into())).unwrap_or(start), cfg.tz())
}

/// When a leaver's access ends: at the end of the last day.
pub fn disable_time(last_day: NaiveDate, cfg: &LifecycleConfig) -> DateTime<Utc> {
    start_of_day(last_day.succ_opt().unwrap_or(last_day), cfg.tz())
}

/// When a user disabled at `disabled_at` is deleted.
pub fn delete_time(disabled_at: DateTime<Utc>, cfg: &LifecycleConfig) -> DateTime<Utc> {
    disabled_at.checked_add_days(Days::new(cfg.grace_days.into())).unwrap_or(disabled_at)
}

/// The form timestamps take in tags (IAM allows `:` in tag values).
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// What the sweep must do for a user now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Due {
    /// A pre-hire whose lead time has come: console access and the welcome.
    Activate,
    /// A leaver whose last day has ended.
    Disable,
    /// A disabled leaver whose grace period is over.
    Delete,
    /// An initial credential was used: its secret is no longer needed and is deleted.
    RetireCredential,
    /// An initial credential stayed unused past `secrets.initial_ttl_days`: it is withdrawn.
    ExpireCredential,
}

impl Due {
    pub const fn as_str(self) -> &'static str {
        match self {
            Due::Activate => "activate",
            Due::Disable => "disable",
            Due::Delete => "delete",
            Due::RetireCredential => "retire-credential",
            Due::ExpireCredential => "expire-credential",
        }
    }
}

/// What is due for an initial credential issued at `issued` and last used at `used`: retire its
/// secret once the credential was used since it was issued (a console password must be changed
/// at first sign-in, so the stored one is dead; an access key is in the person's hands), expire
/// it once `ttl_days` have passed unused, otherwise nothing.
pub fn credential_due(
    issued: DateTime<Utc>,
    used: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    ttl_days: u32,
) -> Option<Due> {
    if used.is_some_and(|u| u >= issued) {
        Some(Due::RetireCredential)
    } else if now >= issued + chrono::TimeDelta::days(i64::from(ttl_days)) {
        Some(Due::ExpireCredential)
    } else {
        None
    }
}

/// The action due at `now` for a user with these tags, if any.
pub fn due(tags: &BTreeMap<String, String>, now: DateTime<Utc>) -> Option<Due> {
    let reached = |key: &str| tags.get(key).and_then(|v| parse_stamp(v)).is_some_and(|t| t <= now);
    match Status::of(tags) {
        // A departure scheduled before the start date also ends a pending hire.
        Status::Pending if reached(DISABLE_AT) => Some(Due::Disable),
        Status::Pending if reached(ACTIVATE_AT) => Some(Due::Activate),
        Status::Active if reached(DISABLE_AT) => Some(Due::Disable),
        Status::Disabled if reached(DELETE_AT) => Some(Due::Delete),
        _ => None,
    }
}

/// Whether an event sent at `time` is older than the newest one already applied to the user.
/// The same time is not stale: a resend of the last event must be able to finish its work.
pub fn is_stale(tags: &BTreeMap<String, String>, time: DateTime<Utc>) -> bool {
    tags.get(LAST_EVENT_TIME).and_then(|v| parse_stamp(v)).is_some_and(|last| time < last)
}

/// IAM's longest role session (a role's maximum session duration is 1 to 12 hours): a session
/// issued before a departure is over by then.
pub const MAX_ROLE_SESSION_HOURS: i64 = 12;

/// The users whose sessions a departure still has to end: access revoked (their `access-revoked`
/// tag) within `hours` up to `now` (the longest session a leaver may hold: IAM's
/// [`MAX_ROLE_SESSION_HOURS`], or the managed permission sets' longest), most recent first. Older
/// ones hold no session any more: every session issued before their revocation has expired, and
/// none could start since.
pub fn recent_revocations<'a>(
    users: impl IntoIterator<Item = (&'a str, &'a BTreeMap<String, String>)>,
    now: DateTime<Utc>,
    hours: i64,
) -> Vec<&'a str> {
    let since = now - chrono::TimeDelta::hours(hours);
    let mut recent: Vec<_> = users
        .into_iter()
        .filter_map(|(name, t)| Some((t.get(ACCESS_REVOKED).and_then(|v| parse_stamp(v))?, name)))
        .filter(|(at, _)| *at > since)
        .collect();
    recent.sort_unstable_by(|a, b| b.cmp(a));
    recent.into_iter().map(|(_, name)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg(tz: &str) -> LifecycleConfig {
        LifecycleConfig { timezone: tz.into(), lead_days: 3, ..LifecycleConfig::default() }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn at(s: &str) -> DateTime<Utc> {
        parse_stamp(s).expect("time")
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn role_sessions_are_denied_for_twelve_hours_after_a_revocation_most_recent_first() {
        let users = [
            ("old", tags(&[(ACCESS_REVOKED, "2027-01-31T09:59:59Z")])),
            ("early", tags(&[(ACCESS_REVOKED, "2027-01-31T10:00:01Z")])),
            ("late", tags(&[(ACCESS_REVOKED, "2027-01-31T21:00:00Z")])),
            ("active", tags(&[])),
            ("garbled", tags(&[(ACCESS_REVOKED, "yesterday")])),
        ];
        let recent = recent_revocations(users.iter().map(|(n, t)| (*n, t)), at("2027-01-31T22:00:00Z"), 12);
        assert_eq!(recent, ["late", "early"]);
        let shorter = recent_revocations(users.iter().map(|(n, t)| (*n, t)), at("2027-01-31T22:00:00Z"), 5);
        assert_eq!(shorter, ["late"], "a shorter longest session prunes sooner");
    }

    #[test]
    fn a_last_day_ends_at_local_midnight() {
        assert_eq!(disable_time(day("2027-01-31"), &cfg("UTC")), at("2027-02-01T00:00:00Z"));
        assert_eq!(disable_time(day("2027-01-31"), &cfg("Europe/Berlin")), at("2027-01-31T23:00:00Z"));
        assert_eq!(disable_time(day("2027-07-31"), &cfg("Europe/Berlin")), at("2027-07-31T22:00:00Z"));
        assert_eq!(disable_time(day("2027-01-31"), &cfg("America/New_York")), at("2027-02-01T05:00:00Z"));
    }

    #[test]
    fn midnight_in_a_dst_gap_moves_to_the_first_real_hour() {
        // Santiago skipped 00:00-01:00 on 2026-09-06.
        assert_eq!(
            start_of_day(day("2026-09-06"), Tz::get("America/Santiago").expect("zone")),
            at("2026-09-06T04:00:00Z")
        );
    }

    #[test]
    fn activation_comes_lead_days_before_the_start() {
        assert_eq!(activation_time(day("2027-03-01"), &cfg("UTC")), at("2027-02-26T00:00:00Z"));
    }

    #[test]
    fn due_follows_status_and_dates() {
        let now = at("2027-02-01T12:00:00Z");
        let pending = tags(&[(STATUS, "pending"), (ACTIVATE_AT, "2027-02-01T00:00:00Z")]);
        assert_eq!(due(&pending, now), Some(Due::Activate));
        assert_eq!(due(&pending, at("2027-01-31T23:59:59Z")), None);
        let leaving = tags(&[(STATUS, "active"), (DISABLE_AT, "2027-02-01T00:00:00Z")]);
        assert_eq!(due(&leaving, now), Some(Due::Disable));
        let gone = tags(&[(STATUS, "disabled"), (DELETE_AT, "2027-03-03T00:00:00Z")]);
        assert_eq!(due(&gone, now), None);
        assert_eq!(due(&gone, at("2027-03-03T00:00:00Z")), Some(Due::Delete));
        assert_eq!(due(&tags(&[]), now), None, "an active user without dates has nothing due");
        let left_before_start =
            tags(&[(STATUS, "pending"), (ACTIVATE_AT, "2027-02-01T00:00:00Z"), (DISABLE_AT, "2027-01-15T00:00:00Z")]);
        assert_eq!(due(&left_before_start, now), Some(Due::Disable));
    }

    #[test]
    fn stale_means_strictly_older() {
        let t = tags(&[(LAST_EVENT_TIME, "2027-01-10T09:00:00Z")]);
        assert!(is_stale(&t, at("2027-01-10T08:59:59Z")));
        assert!(!is_stale(&t, at("2027-01-10T09:00:00Z")), "a resend of the last event is not stale");
        assert!(!is_stale(&tags(&[]), at("2000-01-01T00:00:00Z")));
    }

    proptest! {
        #[test]
        fn disable_is_within_a_day_of_the_last_day(y in 2000i32..2100, o in 0u32..365, tz in prop::sample::select(vec!["UTC", "Europe/Berlin", "Pacific/Kiritimati", "America/Los_Angeles", "Asia/Kolkata"])) {
            let d = NaiveDate::from_yo_opt(y, o + 1).expect("day");
            let t = disable_time(d, &cfg(tz));
            let naive_end = Utc.from_utc_datetime(&d.succ_opt().expect("next").and_hms_opt(0, 0, 0).expect("midnight"));
            prop_assert!((t - naive_end).num_hours().abs() <= 15);
            prop_assert!(is_stale(&tags(&[(LAST_EVENT_TIME, &stamp(t))]), t - chrono::Duration::seconds(1)));
        }
    }

    #[test]
    fn an_initial_credential_is_retired_once_used_and_expires_unused() {
        let t = |s: &str| parse_stamp(s).expect("time");
        let issued = t("2031-01-05T10:00:00Z");
        assert_eq!(credential_due(issued, None, t("2031-01-19T09:59:59Z"), 14), None);
        assert_eq!(credential_due(issued, None, t("2031-01-19T10:00:00Z"), 14), Some(Due::ExpireCredential));
        assert_eq!(
            credential_due(issued, Some(t("2031-01-06T08:00:00Z")), t("2031-01-06T09:00:00Z"), 14),
            Some(Due::RetireCredential)
        );
        // A sign-in from before this credential (an earlier employment) does not count.
        assert_eq!(credential_due(issued, Some(t("2030-06-01T08:00:00Z")), t("2031-01-06T09:00:00Z"), 14), None);
    }
}
