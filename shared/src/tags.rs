//! The IAM tags this system owns on a user, derived from HR attributes.
//!
//! Owned keys are listed here once; reconciliation adds, updates and removes only these and
//! never touches any other tag on the user.

use std::collections::BTreeMap;

use crate::error::ValidationError;
use crate::event::{Change, Hire};

/// The marker that this system manages the user.
pub const MANAGED_BY: &str = "managed-by";
pub const MANAGED_BY_VALUE: &str = "employee-lifecycle";
/// The description bootstrap gives what it makes (policies; Identity Center groups and
/// permission sets); one of the same name without it is someone else's, and never changed.
pub const INSTALLED_BY: &str = "Installed by employee-lifecycle onboarding bootstrap";
/// The person's identity: who this user belongs to.
pub const EMPLOYEE_ID: &str = "employee-id";
/// Set once the welcome message went out (value: the HR event id), so a resend sends none.
pub const WELCOME_SENT: &str = "welcome-sent";

/// An unused initial password was withdrawn at this time (RFC 3339): a resend does not issue
/// another; an `Employee Changed` does, and removes the marker.
pub const CREDENTIALS_EXPIRED: &str = "credentials-expired-at";
/// The access key whose initial secret was deleted (used, or expired): a resend issues no other.
pub const ACCESS_KEY_DELIVERED: &str = "access-key-delivered";

/// Set once a change notice went out (value: the HR event id).
pub const NOTICE_SENT: &str = "notice-sent";
pub const EMAIL: &str = "email";
pub const MANAGER_EMAIL: &str = "manager-email";
pub const DEPARTMENT: &str = "department";
pub const TITLE: &str = "title";
pub const LOCATION: &str = "location";
pub const COST_CENTER: &str = "cost-center";
/// The first day of work (`YYYY-MM-DD`), as HR sent it.
pub const START_DATE: &str = "start-date";
/// The name the person goes by (greetings; the sweep's welcome has no event to read it from).
pub const GIVEN_NAME: &str = "given-name";
pub const DISPLAY_NAME: &str = "display-name";
/// Which access the hire asked for: `console`, `programmatic` or `console+programmatic`.
pub const ACCESS: &str = "access";

/// Tags that mirror HR attributes; `tag-user` reconciles exactly these (and [`LIFECYCLE_KEYS`]).
pub const HR_KEYS: &[&str] = &[
    MANAGED_BY,
    EMPLOYEE_ID,
    EMAIL,
    DEPARTMENT,
    TITLE,
    LOCATION,
    COST_CENTER,
    MANAGER_EMAIL,
    START_DATE,
    GIVEN_NAME,
    DISPLAY_NAME,
    ACCESS,
];

/// The HR keys an `Employee Changed` can set ([`after_change`]); the others (`start-date`,
/// `display-name`, `access`, the ownership keys) are set at hire only.
pub const CHANGEABLE: &[&str] = &[EMAIL, DEPARTMENT, TITLE, LOCATION, COST_CENTER, MANAGER_EMAIL, GIVEN_NAME];

/// Where the person is in their lifecycle: `pending`, `active` or `disabled`.
pub const STATUS: &str = "lifecycle-status";
/// When a pending hire gets console access and the welcome (RFC 3339).
pub const ACTIVATE_AT: &str = "activate-at";
/// A scheduled departure: the last day (YYYY-MM-DD) and the moment access ends.
pub const LAST_DAY: &str = "last-day";
pub const DISABLE_AT: &str = "disable-at";
/// A disabled leaver: when it was disabled and when the user is deleted.
pub const DISABLED_AT: &str = "disabled-at";
pub const DELETE_AT: &str = "delete-at";
/// Envelope `time` of the newest HR event applied to this user: older ones are ignored.
pub const LAST_EVENT_TIME: &str = "last-event-time";
/// When access was revoked (RFC 3339): while it is on the user, the permissions boundary denies
/// the user every action, with any credential or session already issued. Written first by a
/// disable; a rehire's `tag-user` removes it (it is owned, and a hire does not ask for it).
pub const ACCESS_REVOKED: &str = "access-revoked";
/// A departure the mass-departure guard held (RFC 3339, when): its disable waits for an
/// operator (`onboarding quarantine release` or `discard`); the sweep re-alerts until then.
pub const DISABLE_HELD: &str = "disable-held";

/// The due dates and state that live on the user itself, so no other database is needed.
pub const LIFECYCLE_KEYS: &[&str] =
    &[STATUS, ACTIVATE_AT, LAST_DAY, DISABLE_AT, DISABLED_AT, DELETE_AT, LAST_EVENT_TIME, ACCESS_REVOKED, DISABLE_HELD];

/// The keys this stack's roles may write on a user that already exists: every owned key and the
/// message markers, but never the identity (`managed-by`, `employee-id`), which only
/// `create-user` writes, in the `CreateUser` call itself. The template's tag conditions list
/// exactly these (a test keeps them equal).
pub fn writable_after_creation() -> Vec<&'static str> {
    HR_KEYS
        .iter()
        .chain(LIFECYCLE_KEYS)
        .chain([&WELCOME_SENT, &NOTICE_SENT, &CREDENTIALS_EXPIRED, &ACCESS_KEY_DELIVERED])
        .copied()
        .filter(|k| *k != MANAGED_BY && *k != EMPLOYEE_ID)
        .collect()
}

/// Whether this system owns the key (and may add, change or remove it).
pub fn owned(key: &str) -> bool {
    HR_KEYS.contains(&key) || LIFECYCLE_KEYS.contains(&key)
}

/// IAM limits.
pub const MAX_TAGS: usize = 50;
pub const MAX_KEY_LEN: usize = 128;
pub const MAX_VALUE_LEN: usize = 256;

/// The HR-attribute tags a hire should carry (sorted by key).
pub fn desired(h: &Hire) -> BTreeMap<String, String> {
    let mut t = BTreeMap::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.map(sanitize).filter(|v| !v.is_empty()) {
            t.insert(k.to_owned(), v);
        }
    };
    put(MANAGED_BY, Some(MANAGED_BY_VALUE));
    put(EMPLOYEE_ID, Some(&h.meta.employee_id));
    put("email", Some(&h.email));
    put("department", Some(&h.department));
    put("title", h.title.as_deref());
    put("location", h.location.as_deref());
    put("cost-center", h.cost_center.as_deref());
    put("manager-email", h.manager_email.as_deref());
    put(START_DATE, Some(&h.start_date.to_string()));
    put(GIVEN_NAME, Some(h.first_name()));
    put(DISPLAY_NAME, Some(&format!("{} {}", h.first_name(), h.family_name)));
    put(
        ACCESS,
        Some(match (h.access.console, h.access.programmatic) {
            (true, true) => "console+programmatic",
            (false, true) => "programmatic",
            _ => "console",
        }),
    );
    t
}

/// The HR tags after a change: the current ones with the changed attributes replaced.
pub fn after_change(current: &BTreeMap<String, String>, c: &Change) -> BTreeMap<String, String> {
    let mut t: BTreeMap<String, String> =
        current.iter().filter(|(k, _)| owned(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v.as_deref().map(sanitize).filter(|v| !v.is_empty()) {
            t.insert(k.to_owned(), v);
        }
    };
    put(EMAIL, &c.email);
    put(DEPARTMENT, &c.department);
    put(TITLE, &c.title);
    put(LOCATION, &c.location);
    put(COST_CENTER, &c.cost_center);
    put(MANAGER_EMAIL, &c.manager_email);
    put(GIVEN_NAME, &c.preferred_name);
    t
}

/// IAM tag values allow letters, digits, spaces and `_ . : / = + - @`. Anything else (commas,
/// ampersands, apostrophes) becomes a space; runs of spaces fold; cut at 256 characters.
pub fn sanitize(v: &str) -> String {
    let mapped: String = v.chars().map(|c| if allowed(c) { c } else { ' ' }).collect();
    let folded = mapped.split_whitespace().collect::<Vec<_>>().join(" ");
    folded.chars().take(MAX_VALUE_LEN).collect()
}

fn allowed(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c)
}

/// Checks a tag set against IAM's rules before any call.
pub fn validate(tags: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    if tags.len() > MAX_TAGS {
        return Err(ValidationError::new("tags", format!("{} tags; IAM allows at most {MAX_TAGS}", tags.len())));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > MAX_KEY_LEN || !k.chars().all(allowed) || k.starts_with("aws:") {
            return Err(ValidationError::new(
                format!("tags.{k}"),
                "invalid tag key (1-128 characters, letters, digits, spaces, _ . : / = + - @, not `aws:`)",
            ));
        }
        if v.chars().count() > MAX_VALUE_LEN || !v.chars().all(allowed) {
            return Err(ValidationError::new(
                format!("tags.{k}"),
                "invalid tag value (0-256 characters, letters, digits, spaces, _ . : / = + - @)",
            ));
        }
    }
    Ok(())
}

/// What to change so that the owned tags equal `desired`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagDiff {
    /// Keys to add or update, with their new values.
    pub set: BTreeMap<String, String>,
    /// Owned keys to remove.
    pub remove: Vec<String>,
}

impl TagDiff {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }
}

/// Compares the user's current tags with the desired ones; only [`owned`] keys are removed.
pub fn diff(current: &BTreeMap<String, String>, desired: &BTreeMap<String, String>) -> TagDiff {
    let set = desired.iter().filter(|(k, v)| current.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let remove = current.keys().filter(|k| owned(k) && !desired.contains_key(*k)).cloned().collect();
    TagDiff { set, remove }
}

/// What to change so that the `set` tags hold and the `remove` keys are gone, whatever else
/// the user carries (a lifecycle transition; [`diff`] reconciles every owned key instead).
pub fn change(current: &BTreeMap<String, String>, set: &BTreeMap<String, String>, remove: &[&str]) -> TagDiff {
    TagDiff {
        set: set.iter().filter(|(k, v)| current.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect(),
        remove: remove.iter().filter(|k| current.contains_key(**k)).map(|k| (*k).to_owned()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn sanitize_keeps_unicode_letters_and_replaces_the_rest() {
        assert_eq!(sanitize("VP, Sales & Ops"), "VP Sales Ops");
        assert_eq!(sanitize("Zürich / HQ"), "Zürich / HQ");
        assert_eq!(sanitize("R&D"), "R D");
        assert_eq!(sanitize(&"x".repeat(300)).len(), 256);
    }

    #[test]
    fn diff_touches_only_owned_keys() {
        let current =
            m(&[("department", "Finance"), ("title", "Analyst"), ("team-owner", "alice"), (WELCOME_SENT, "e1")]);
        let desired = m(&[("department", "Engineering"), ("email", "a@b.c")]);
        let d = diff(&current, &desired);
        assert_eq!(d.set, m(&[("department", "Engineering"), ("email", "a@b.c")]));
        assert_eq!(d.remove, vec!["title".to_string()]);
        assert!(diff(&desired, &desired).is_empty());
    }

    #[test]
    fn a_change_sets_and_removes_only_what_differs() {
        let current = m(&[("lifecycle-status", "active"), (WELCOME_SENT, "e1"), ("team-owner", "alice")]);
        let d = change(&current, &m(&[("lifecycle-status", "disabled")]), &[WELCOME_SENT, DISABLE_AT]);
        assert_eq!(d.set, m(&[("lifecycle-status", "disabled")]));
        assert_eq!(d.remove, vec![WELCOME_SENT.to_string()], "only keys the user has");
        assert!(change(&current, &m(&[("lifecycle-status", "active")]), &[DISABLE_AT]).is_empty());
    }

    #[test]
    fn validate_rejects_bad_keys_and_too_many() {
        assert!(validate(&m(&[("aws:x", "1")])).is_err());
        assert!(validate(&m(&[("ok", "a,b")])).is_err());
        let many: BTreeMap<String, String> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(validate(&many).is_err());
        assert!(validate(&m(&[("department", "R D")])).is_ok());
    }
}
