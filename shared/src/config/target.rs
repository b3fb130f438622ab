//! Which system people's access lives in (`[target]`), and, for IAM Identity Center, its instance,
//! permission sets and group assignments (`[identity_center]`).

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// `[target]`: the one key that chooses where people's access lives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    #[serde(default)]
    pub kind: TargetKind,
}

/// Where people's access lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// IAM users in one account (the default).
    #[default]
    Iam,
    /// IAM Identity Center: Identity Store users and groups, permission sets assigned to groups
    /// in the organization's accounts.
    IdentityCenter,
}

impl TargetKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            TargetKind::Iam => "iam",
            TargetKind::IdentityCenter => "identity-center",
        }
    }
}

/// `[identity_center]`: required when `target.kind = "identity-center"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityCenterConfig {
    /// The instance (`arn:aws:sso:::instance/ssoins-...`). Unset: the account's only instance
    /// (sso-admin `ListInstances`); more than one is an error that names this key.
    pub instance_arn: Option<String>,
    /// The instance's identity store (`d-...`). Unset: the instance's.
    pub identity_store_id: Option<String>,
    /// The AWS access portal people sign in at, named in their welcome.
    pub portal_url: String,
    /// At most this many Identity Store and sso-admin calls per second, shared by all of a
    /// process's calls (AWS's limit is 20 per account for most of these APIs).
    #[serde(default = "default_max_tps")]
    pub max_tps: u32,
    /// The DynamoDB table of this system's own records of whom it owns (`aws::people`).
    #[serde(default = "default_people_table")]
    pub people_table: String,
    /// Only for an emulator without `UpdateUser` (moto): a change then updates the person's
    /// record but not the Identity Store user's title, names and email. Unset: skipped only when
    /// `AWS_ENDPOINT_URL` points at an emulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_user_updates: Option<bool>,
    #[serde(default)]
    pub permission_sets: Vec<PermissionSetConfig>,
    #[serde(default)]
    pub assignments: Vec<AssignmentConfig>,
}

fn default_max_tps() -> u32 {
    20
}

fn default_people_table() -> String {
    "employee-lifecycle-people".into()
}

/// `[[identity_center.permission_sets]]`: one this system creates and manages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetConfig {
    pub name: String,
    /// AWS managed policy ARNs (`arn:aws:iam::aws:policy/...`).
    #[serde(default)]
    pub managed_policies: Vec<String>,
    /// ISO 8601, from `PT1H` to `PT12H`.
    #[serde(default = "default_session_duration")]
    pub session_duration: String,
}

fn default_session_duration() -> String {
    "PT8H".into()
}

/// `[[identity_center.assignments]]`: a group gets a permission set in these accounts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentConfig {
    pub group: String,
    pub permission_set: String,
    pub accounts: Vec<String>,
}

impl IdentityCenterConfig {
    /// How long a leaver's sessions may outlive their revocation, in hours: the longest
    /// `session_duration` of the permission sets this system manages (the default's when there is
    /// none), plus an hour's margin. A leaver's entry stays in the permission sets' deny list
    /// this long, then the sweep prunes it.
    pub fn session_window_hours(&self) -> i64 {
        let longest = self.permission_sets.iter().filter_map(|p| session_hours(&p.session_duration)).max();
        let longest = longest.or_else(|| session_hours(&default_session_duration())).unwrap_or(12);
        i64::from(longest) + 1
    }

    /// Checks every key; `allowed` is `groups.allowed` (an assignment's group must be one).
    pub fn validate(&self, allowed: &[String]) -> Result<(), ValidationError> {
        let at = |k: &str| format!("identity_center.{k}");
        if let Some(arn) = &self.instance_arn
            && !is_instance_arn(arn)
        {
            return Err(ValidationError::new(
                at("instance_arn"),
                format!("`{}` is not an instance ARN; expected `arn:aws:sso:::instance/ssoins-...`", clip(arn)),
            ));
        }
        if let Some(id) = &self.identity_store_id
            && !is_identity_store_id(id)
        {
            return Err(ValidationError::new(
                at("identity_store_id"),
                format!("`{}` is not an identity store id; expected `d-` and 10 letters or digits", clip(id)),
            ));
        }
        if !self.portal_url.starts_with("https://") || self.portal_url.len() > 2048 {
            return Err(ValidationError::new(
                at("portal_url"),
                "must be the AWS access portal's https:// URL, e.g. `https://my-company.awsapps.com/start`",
            ));
        }
        if !(1..=1000).contains(&self.max_tps) {
            return Err(ValidationError::new(at("max_tps"), "must be between 1 and 1000 calls per second"));
        }
        let t = &self.people_table;
        if !(3..=255).contains(&t.len()) || !t.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
            return Err(ValidationError::new(
                at("people_table"),
                format!("`{}` is not a DynamoDB table name: 3 to 255 of a-z A-Z 0-9 _ . -", clip(t)),
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, ps) in self.permission_sets.iter().enumerate() {
            let at = |k: &str| format!("identity_center.permission_sets[{i}].{k}");
            let n = &ps.name;
            if n.is_empty() || n.len() > 32 || !n.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c)) {
                return Err(ValidationError::new(at("name"), "1-32 characters of letters, digits and + = , . @ - _"));
            }
            if !names.insert(n.as_str()) {
                return Err(ValidationError::new(at("name"), format!("`{n}` is named twice")));
            }
            if let Some(p) = ps.managed_policies.iter().find(|p| !is_aws_managed_policy(p)) {
                return Err(ValidationError::new(
                    at("managed_policies"),
                    format!("`{}` is not an AWS managed policy ARN; expected `arn:aws:iam::aws:policy/...`", clip(p)),
                ));
            }
            if ps.managed_policies.len() > 20 {
                return Err(ValidationError::new(at("managed_policies"), "at most 20 per permission set"));
            }
            if session_hours(&ps.session_duration).is_none() {
                return Err(ValidationError::new(
                    at("session_duration"),
                    format!(
                        "`{}` is not an ISO 8601 duration from PT1H to PT12H, e.g. `PT8H`",
                        clip(&ps.session_duration)
                    ),
                ));
            }
        }
        for (i, a) in self.assignments.iter().enumerate() {
            let at = |k: &str| format!("identity_center.assignments[{i}].{k}");
            if !allowed.contains(&a.group) {
                return Err(ValidationError::new(
                    at("group"),
                    format!("`{}` is not in groups.allowed: only those groups are this system's", clip(&a.group)),
                ));
            }
            if !names.contains(a.permission_set.as_str()) {
                return Err(ValidationError::new(
                    at("permission_set"),
                    format!(
                        "`{}` is not one of identity_center.permission_sets (only those are managed here)",
                        clip(&a.permission_set)
                    ),
                ));
            }
            if a.accounts.is_empty() {
                return Err(ValidationError::new(at("accounts"), "name at least one 12-digit account id"));
            }
            if let Some(acct) = a.accounts.iter().find(|x| x.len() != 12 || !x.chars().all(|c| c.is_ascii_digit())) {
                return Err(ValidationError::new(
                    at("accounts"),
                    format!("`{}` is not a 12-digit AWS account id", clip(acct)),
                ));
            }
        }
        Ok(())
    }

    /// The longest session a managed permission set gives, in hours: how long a revocation must
    /// stay in the permission sets' policies after a departure.
    pub fn longest_session_hours(&self) -> u32 {
        self.permission_sets.iter().filter_map(|p| session_hours(&p.session_duration)).max().unwrap_or(12)
    }
}

/// The hours of an ISO 8601 duration of whole hours and minutes (`PT8H`, `PT1H30M`), rounded up,
/// when it is within what a permission set may have (1 to 12 hours).
pub fn session_hours(d: &str) -> Option<u32> {
    let rest = d.strip_prefix("PT")?;
    let (hours, rest) = match rest.split_once('H') {
        Some((h, r)) => (h.parse::<u32>().ok()?, r),
        None => (0, rest),
    };
    let minutes = match rest {
        "" => 0,
        m => m.strip_suffix('M')?.parse::<u32>().ok()?,
    };
    let total = hours.checked_mul(60)?.checked_add(minutes)?;
    (60..=720).contains(&total).then(|| total.div_ceil(60))
}

fn is_instance_arn(arn: &str) -> bool {
    arn.split_once(":sso:::instance/ssoins-").is_some_and(|(p, id)| {
        p.starts_with("arn:aws") && !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

fn is_identity_store_id(id: &str) -> bool {
    id.strip_prefix("d-").is_some_and(|r| r.len() == 10 && r.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn is_aws_managed_policy(arn: &str) -> bool {
    arn.split_once(":iam::aws:policy/").is_some_and(|(p, name)| p.starts_with("arn:aws") && !name.is_empty())
}

fn clip(s: &str) -> String {
    crate::event::clip(s, 96)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leavers_deny_entry_lives_as_long_as_the_longest_session_plus_an_hour() {
        let mut c = ic();
        c.permission_sets[0].session_duration = "PT4H".into();
        assert_eq!(c.session_window_hours(), 5);
        let mut longer = c.permission_sets[0].clone();
        longer.session_duration = "PT10H30M".into();
        c.permission_sets.push(longer);
        assert_eq!(c.session_window_hours(), 12, "10 h 30 min rounds up to 11, plus one");
        c.permission_sets.clear();
        assert_eq!(c.session_window_hours(), 9, "none configured: the default PT8H");
    }

    #[test]
    fn the_shipped_identity_center_sample_makes_a_valid_config() {
        let cfg = crate::config::Config::shipped_identity_center().unwrap_or_else(|e| panic!("{e}"));
        let ic = cfg.identity_center_target().expect("the target is Identity Center");
        assert_eq!(ic.portal_url, "https://example.awsapps.com/start");
        let names: Vec<&str> = ic.permission_sets.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Developers", "Finance"]);
        assert_eq!(ic.assignments.iter().map(|a| a.accounts.len()).sum::<usize>(), 3);
    }

    fn ic() -> IdentityCenterConfig {
        IdentityCenterConfig {
            instance_arn: Some("arn:aws:sso:::instance/ssoins-1234567890abcdef".into()),
            identity_store_id: Some("d-1234567890".into()),
            portal_url: "https://example.awsapps.com/start".into(),
            max_tps: 20,
            people_table: "employee-lifecycle-people".into(),
            skip_user_updates: None,
            permission_sets: vec![PermissionSetConfig {
                name: "Developers".into(),
                managed_policies: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
                session_duration: "PT8H".into(),
            }],
            assignments: vec![AssignmentConfig {
                group: "Developers".into(),
                permission_set: "Developers".into(),
                accounts: vec!["111122223333".into()],
            }],
        }
    }

    #[test]
    fn durations_are_whole_hours_and_minutes_from_one_to_twelve_hours() {
        assert_eq!(session_hours("PT8H"), Some(8));
        assert_eq!(session_hours("PT1H30M"), Some(2));
        assert_eq!(session_hours("PT60M"), Some(1));
        assert_eq!(session_hours("PT12H"), Some(12));
        for bad in ["PT13H", "PT59M", "P1D", "8h", "PT", "PTH", "PT99999999999H"] {
            assert_eq!(session_hours(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_bad_key_is_named_with_what_is_accepted() {
        let allowed = vec!["Developers".to_owned()];
        assert!(ic().validate(&allowed).is_ok());
        type Change = Box<dyn Fn(&mut IdentityCenterConfig)>;
        let cases: Vec<(Change, &str, &str)> = vec![
            (Box::new(|c| c.instance_arn = Some("ssoins-1".into())), "identity_center.instance_arn", "arn:aws:sso"),
            (Box::new(|c| c.identity_store_id = Some("d-12".into())), "identity_center.identity_store_id", "d-"),
            (Box::new(|c| c.portal_url = "http://x".into()), "identity_center.portal_url", "https://"),
            (Box::new(|c| c.max_tps = 0), "identity_center.max_tps", "between 1"),
            (Box::new(|c| c.people_table = "people table".into()), "identity_center.people_table", "DynamoDB table"),
            (
                Box::new(|c| c.permission_sets[0].managed_policies = vec!["arn:aws:iam::123456789012:policy/x".into()]),
                "identity_center.permission_sets[0].managed_policies",
                "arn:aws:iam::aws:policy/",
            ),
            (
                Box::new(|c| c.permission_sets[0].session_duration = "PT24H".into()),
                "identity_center.permission_sets[0].session_duration",
                "PT1H to PT12H",
            ),
            (
                Box::new(|c| c.permission_sets.push(c.permission_sets[0].clone())),
                "identity_center.permission_sets[1].name",
                "named twice",
            ),
            (
                Box::new(|c| c.assignments[0].group = "Admins".into()),
                "identity_center.assignments[0].group",
                "groups.allowed",
            ),
            (
                Box::new(|c| c.assignments[0].permission_set = "Admin".into()),
                "identity_center.assignments[0].permission_set",
                "identity_center.permission_sets",
            ),
            (
                Box::new(|c| c.assignments[0].accounts = vec!["1111".into()]),
                "identity_center.assignments[0].accounts",
                "12-digit",
            ),
            (
                Box::new(|c| c.assignments[0].accounts.clear()),
                "identity_center.assignments[0].accounts",
                "at least one",
            ),
        ];
        for (change, field, says) in cases {
            let mut c = ic();
            change(&mut c);
            let e = c.validate(&allowed).expect_err(field);
            assert_eq!(e.field, field);
            assert!(e.message.contains(says), "{field}: {}", e.message);
        }
    }

    #[test]
    fn a_revocation_lasts_as_long_as_the_longest_session() {
        let mut c = ic();
        assert_eq!(c.longest_session_hours(), 8);
        c.permission_sets[0].session_duration = "PT11H15M".into();
        assert_eq!(c.longest_session_hours(), 12);
        c.permission_sets.clear();
        assert_eq!(c.longest_session_hours(), 12, "none configured: IAM's longest");
    }
}
