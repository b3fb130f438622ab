//! The IAM tags this system owns on a user, derived from HR attributes.
//!
//! Owned keys are listed here once; reconciliation adds, updates and removes only these and
//! never touches any other tag on the user.

use std::collections::BTreeMap;

use crate::error::ValidationError;
use crate::event::Hire;

/// The marker that this system manages the user.
pub const MANAGED_BY: &str = "managed-by";
pub const MANAGED_BY_VALUE: &str = "employee-lifecycle";
/// The person's identity: who this user belongs to.
pub const EMPLOYEE_ID: &str = "employee-id";
/// Set once the welcome message went out (value: the HR event id), so a resend sends none.
pub const WELCOME_SENT: &str = "welcome-sent";

/// Tags that mirror HR attributes; `tag-user` reconciles exactly these.
pub const HR_KEYS: &[&str] = &[
    MANAGED_BY,
    EMPLOYEE_ID,
    "email",
    "department",
    "title",
    "location",
    "cost-center",
    "manager-email",
    "start-date",
];

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
    put("start-date", Some(&h.start_date.to_string()));
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

/// Compares the user's current tags with the desired HR tags; only [`HR_KEYS`] are considered.
pub fn diff(current: &BTreeMap<String, String>, desired: &BTreeMap<String, String>) -> TagDiff {
    let set = desired.iter().filter(|(k, v)| current.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let remove =
        current.keys().filter(|k| HR_KEYS.contains(&k.as_str()) && !desired.contains_key(*k)).cloned().collect();
    TagDiff { set, remove }
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
    fn validate_rejects_bad_keys_and_too_many() {
        assert!(validate(&m(&[("aws:x", "1")])).is_err());
        assert!(validate(&m(&[("ok", "a,b")])).is_err());
        let many: BTreeMap<String, String> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(validate(&many).is_err());
        assert!(validate(&m(&[("department", "R D")])).is_ok());
    }
}
