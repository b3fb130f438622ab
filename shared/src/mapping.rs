//! Group mapping: which IAM groups a person joins. Groups come only from these rules, never from
//! the event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::event::clip;
use crate::tags::sanitize;

/// IAM's limit on groups per user.
pub const MAX_GROUPS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    /// Groups every employee joins.
    #[serde(default)]
    pub always: Vec<String>,
    /// The only groups this system may ever add anyone to.
    pub allowed: Vec<String>,
    /// Rules, in order; every matching rule adds its groups.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// A rule matches when every attribute it names equals the person's (case-insensitive, and
/// ignoring the punctuation IAM tags cannot hold: `R&D` matches `R D`).
/// A rule must name at least one attribute.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub department: Option<String>,
    pub title: Option<String>,
    pub location: Option<String>,
    pub groups: Vec<String>,
}

/// The attributes rules look at.
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    pub department: &'a str,
    pub title: Option<&'a str>,
    pub location: Option<&'a str>,
}

/// The outcome of the mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    /// The groups, in config order, without duplicates.
    pub groups: Vec<String>,
    /// No rule matched: the person gets only the always-groups.
    pub no_rule_matched: bool,
}

impl GroupConfig {
    /// Checks the configuration itself; errors name the key.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.allowed.is_empty() {
            return Err(ValidationError::new("groups.allowed", "must list at least one group"));
        }
        for (i, g) in self.allowed.iter().enumerate() {
            if !is_group_name(g) {
                return Err(ValidationError::new(
                    format!("groups.allowed[{i}]"),
                    format!("`{}` is not a valid IAM group name ([A-Za-z0-9+=,.@_-], 1-128 characters)", clip(g, 96)),
                ));
            }
        }
        let check = |key: String, groups: &[String]| -> Result<(), ValidationError> {
            for g in groups {
                if !self.allowed.contains(g) {
                    return Err(ValidationError::new(
                        key.clone(),
                        format!("group `{}` is not in groups.allowed", clip(g, 96)),
                    ));
                }
            }
            Ok(())
        };
        check("groups.always".into(), &self.always)?;
        for (i, r) in self.rules.iter().enumerate() {
            if r.department.is_none() && r.title.is_none() && r.location.is_none() {
                return Err(ValidationError::new(
                    format!("groups.rules[{i}]"),
                    "must match on at least one of `department`, `title`, `location`",
                ));
            }
            check(format!("groups.rules[{i}].groups"), &r.groups)?;
        }
        Ok(())
    }

    /// The groups for a person. More than [`MAX_GROUPS`] is an error, before any AWS call.
    pub fn resolve(&self, a: Attributes<'_>) -> Result<Membership, ValidationError> {
        let mut groups: Vec<String> = Vec::new();
        let mut add = |g: &String| {
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        };
        self.always.iter().for_each(&mut add);
        let mut matched = false;
        for r in &self.rules {
            if r.matches(a) {
                matched = true;
                r.groups.iter().for_each(&mut add);
            }
        }
        // Defence in depth: validate() already guarantees this for a loaded config.
        if let Some(g) = groups.iter().find(|g| !self.allowed.contains(g)) {
            return Err(ValidationError::new("groups", format!("group `{}` is not in groups.allowed", clip(g, 96))));
        }
        if groups.len() > MAX_GROUPS {
            return Err(ValidationError::new(
                "detail.department",
                format!(
                    "the mapping rules give {} groups ({}); IAM allows at most {MAX_GROUPS} per user",
                    groups.len(),
                    groups.join(", ")
                ),
            ));
        }
        Ok(Membership { groups, no_rule_matched: !matched })
    }
}

impl GroupConfig {
    /// Why the mapping gives each of its groups for these attributes: `always`, or the rules
    /// that give it (`rule 2 (department = Finance)`), for an operator asking why someone is in a
    /// group.
    pub fn reasons(&self, a: Attributes<'_>) -> BTreeMap<String, String> {
        let mut why: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for g in &self.always {
            why.entry(g.clone()).or_default().push("always".into());
        }
        for (i, r) in self.rules.iter().enumerate().filter(|(_, r)| r.matches(a)) {
            let on: Vec<String> = [("department", &r.department), ("title", &r.title), ("location", &r.location)]
                .into_iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} = {v}")))
                .collect();
            for g in &r.groups {
                why.entry(g.clone()).or_default().push(format!("rule {} ({})", i + 1, on.join(", ")));
            }
        }
        why.into_iter().map(|(g, r)| (g, r.join("; "))).collect()
    }
}

impl Rule {
    fn matches(&self, a: Attributes<'_>) -> bool {
        let eq = |want: &Option<String>, have: Option<&str>| match want {
            None => true,
            // Compared as tags store them, so attributes read back from a user's tags match too.
            Some(w) => have.is_some_and(|h| sanitize(h).to_lowercase() == sanitize(w).to_lowercase()),
        };
        eq(&self.department, Some(a.department)) && eq(&self.title, a.title) && eq(&self.location, a.location)
    }
}

pub fn is_group_name(g: &str) -> bool {
    !g.is_empty() && g.len() <= 128 && g.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> GroupConfig {
        GroupConfig {
            always: vec!["AllEmployees".into()],
            allowed: vec!["AllEmployees".into(), "Developers".into(), "Finance".into(), "OnCall".into()],
            rules: vec![
                Rule {
                    department: Some("Engineering".into()),
                    title: None,
                    location: None,
                    groups: vec!["Developers".into()],
                },
                Rule {
                    department: Some("Finance".into()),
                    title: None,
                    location: None,
                    groups: vec!["Finance".into()],
                },
                Rule {
                    department: Some("Engineering".into()),
                    title: Some("SRE".into()),
                    location: None,
                    groups: vec!["OnCall".into(), "Developers".into()],
                },
            ],
        }
    }

    fn attrs<'a>(d: &'a str, t: Option<&'a str>) -> Attributes<'a> {
        Attributes { department: d, title: t, location: None }
    }

    #[test]
    fn always_plus_matching_rules_in_order_without_duplicates() {
        let m = cfg().resolve(attrs("engineering", Some("SRE"))).expect("ok");
        assert_eq!(m.groups, ["AllEmployees", "Developers", "OnCall"]);
        assert!(!m.no_rule_matched);
    }

    #[test]
    fn each_group_says_which_rules_give_it() {
        let why = cfg().reasons(attrs("engineering", Some("SRE")));
        let expected = [
            ("AllEmployees", "always"),
            ("Developers", "rule 1 (department = Engineering); rule 3 (department = Engineering, title = SRE)"),
            ("OnCall", "rule 3 (department = Engineering, title = SRE)"),
        ];
        assert_eq!(why, expected.map(|(g, r)| (g.to_owned(), r.to_owned())).into_iter().collect());
        assert_eq!(cfg().reasons(attrs("Legal", None)).into_keys().collect::<Vec<_>>(), ["AllEmployees"]);
    }

    #[test]
    fn unmapped_department_gets_always_groups_and_says_so() {
        let m = cfg().resolve(attrs("Legal", None)).expect("ok");
        assert_eq!(m.groups, ["AllEmployees"]);
        assert!(m.no_rule_matched);
    }

    #[test]
    fn config_errors_name_the_key() {
        let mut c = cfg();
        c.rules[1].groups.push("Admins".into());
        let e = c.validate().expect_err("not allowed");
        assert_eq!(e.field, "groups.rules[1].groups");
        assert!(e.message.contains("Admins"));
        let mut c = cfg();
        c.rules.push(Rule { department: None, title: None, location: None, groups: vec![] });
        assert_eq!(c.validate().expect_err("matches all").field, "groups.rules[3]");
    }

    #[test]
    fn more_than_ten_groups_is_an_error() {
        let many: Vec<String> = (0..11).map(|i| format!("G{i}")).collect();
        let c = GroupConfig { always: many.clone(), allowed: many, rules: vec![] };
        c.validate().expect("valid config");
        let e = c.resolve(attrs("X", None)).expect_err("too many");
        assert!(e.message.contains("at most 10"), "{e}");
    }
}
