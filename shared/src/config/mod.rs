//! Configuration: one typed struct, parsed and checked once at start-up.
//!
//! The CLI reads `onboarding.toml`; a Lambda reads the same TOML from the `ONBOARDING_CONFIG`
//! environment variable (or a file named by `ONBOARDING_CONFIG_FILE`).

mod review;
mod target;

pub use review::{Links, ReviewConfig};

pub use target::{
    AssignmentConfig, IdentityCenterConfig, PermissionSetConfig, TargetConfig, TargetKind, session_hours,
};

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::event::clip;
use crate::mapping::GroupConfig;
use crate::retry::RetryPolicy;

/// The shipped `onboarding.toml`, as text.
pub const SHIPPED: &str = include_str!("../../../onboarding.toml");

pub const ENV_CONFIG: &str = "ONBOARDING_CONFIG";
pub const ENV_CONFIG_FILE: &str = "ONBOARDING_CONFIG_FILE";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where people's access lives: IAM users (the default) or IAM Identity Center.
    #[serde(default)]
    pub target: TargetConfig,
    /// Required with `target.kind = "identity-center"`.
    pub identity_center: Option<IdentityCenterConfig>,
    pub iam: IamConfig,
    pub groups: GroupConfig,
    pub secrets: SecretsConfig,
    pub topics: TopicsConfig,
    #[serde(default)]
    pub console: ConsoleConfig,
    #[serde(default)]
    pub retry: RetryConfig,
    #[serde(default)]
    pub lifecycle: LifecycleConfig,
    #[serde(default)]
    pub intake: IntakeConfig,
    #[serde(default)]
    pub trail: TrailConfig,
    #[serde(default)]
    pub review: ReviewConfig,
}

/// The durable audit trail (deployed): the Object Lock bucket the archiver writes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrailConfig {
    pub bucket: Option<String>,
    /// Days each archived object is locked in compliance mode, set on the object itself at every
    /// write (the bucket's default retention is only a fallback; its policy refuses a write
    /// without the lock). Deployed: the stack's `AuditRetentionDays`.
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
}

impl Default for TrailConfig {
    fn default() -> Self {
        Self { bucket: None, retention_days: default_retention_days() }
    }
}

fn default_retention_days() -> u32 {
    400
}

/// HR's front door: who may post signed webhooks, and where the deployed intake keeps its
/// memory of accepted requests and hands events on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    #[serde(default)]
    pub sources: Vec<IntakeSource>,
    /// Deployed: the DynamoDB table remembering accepted `webhook-id`s for 24 hours.
    pub dedupe_table: Option<String>,
    /// Deployed: the EventBridge bus the intake puts accepted events on.
    pub event_bus: Option<String>,
    /// Deployed: how long the intake trusts the signing secrets it read before it reads them
    /// again, so a revoked or rotated secret stops working within this (default 300).
    #[serde(default = "default_secrets_ttl_seconds")]
    pub secrets_ttl_seconds: u64,
}

/// Where the intake's signing secrets must live: `{secrets prefix}-intake/`, a name the
/// employees' permissions boundary knows in advance (`policies::boundary` denies it; validation
/// refuses a signing secret elsewhere), apart from the initial credentials under
/// `{secrets prefix}/` that the sweep retires.
pub fn signing_secrets_prefix(secrets_prefix: &str) -> String {
    format!("{secrets_prefix}-intake/")
}

fn default_secrets_ttl_seconds() -> u64 {
    300
}

impl Default for IntakeConfig {
    fn default() -> Self {
        Self {
            sources: Vec::new(),
            dedupe_table: None,
            event_bus: None,
            secrets_ttl_seconds: default_secrets_ttl_seconds(),
        }
    }
}

/// One sender. Its requests come to `POST /hooks/{name}` and become events from `hr.{name}`.
/// Its signing secrets (`whsec_...`, two during a rotation) come from Secrets Manager (the
/// deployed intake), an environment variable or a file (`onboarding serve`, `onboarding sign`);
/// an environment variable or file may hold two, separated by whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeSource {
    pub name: String,
    #[serde(default)]
    pub secrets: Vec<String>,
    pub secret_env: Option<String>,
    pub secret_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IamConfig {
    /// Path of every user this system creates, e.g. `/employees/`.
    pub user_path: String,
    /// Permissions boundary for every user: a customer-managed policy name or ARN.
    pub permissions_boundary: String,
    /// Whether a user counts as this system's only when IAM reports this boundary on it (besides
    /// the path and the tags). Unset: required, unless the SDK talks to a custom endpoint (an
    /// emulator such as moto, which drops boundaries). The deployed stack sets `true`.
    #[serde(default)]
    pub require_boundary: Option<bool>,
    /// Permissions boundary of the roles employees assume (a customer-managed policy name or
    /// ARN; `onboarding bootstrap` creates it when given a name). A departure writes the
    /// leaver's name into it, which ends their sessions of every role that carries it. Unset:
    /// role sessions run until they expire.
    #[serde(default)]
    pub role_sessions_boundary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// Secret names are `{prefix}/{user-name}/console-password` and `.../access-key`.
    pub prefix: String,
    /// KMS key (id, ARN or alias) for the secrets; AWS's default key when absent.
    pub kms_key_id: Option<String>,
    /// Principals (ARNs) besides the user that may read initial credentials, e.g. the IT
    /// service desk role that hands them over. Empty by default: only the user can.
    #[serde(default)]
    pub readers: Vec<String>,
    /// Principals (ARNs, `*` allowed) that run this system and so may change a secret's policy,
    /// restore or delete it (never read it): the functions' roles, an operator's role. The
    /// secret's resource policy denies those actions to everyone else.
    #[serde(default)]
    pub writers: Vec<String>,
    /// Days an unused initial credential stays valid. Then the sweep removes a never-used login
    /// profile and deletes the secrets (an access key itself stays the person's). Default 14.
    #[serde(default = "default_initial_ttl_days")]
    pub initial_ttl_days: u32,
}

fn default_initial_ttl_days() -> u32 {
    14
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TopicsConfig {
    /// Welcome messages: topic name or ARN.
    pub notifications: String,
    /// Audit records: topic name or ARN.
    pub audit: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Sign-in URL for welcome messages; default `https://{account-id}.signin.aws.amazon.com/console`.
    pub sign_in_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts per call for IAM's transient errors (and the SDK's own retries).
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self { max_attempts: 6, base_delay_ms: 200, max_delay_ms: 5_000 }
    }
}

/// Leavers, pre-hires and the sweep.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleConfig {
    /// IANA time zone in which HR's dates (`startDate`, `lastDay`) are days, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// Days before `startDate` at which a pre-hire gets console access and the welcome.
    pub lead_days: u32,
    /// Days between disabling a leaver and deleting the user.
    pub grace_days: u32,
    /// User names that are never disabled or deleted (break-glass, service accounts).
    pub protect: Vec<String>,
    /// Mass-departure guard: a run or sweep that would disable more users than this disables none.
    pub max_disables: u32,
    /// Mass-departure guard: ... or more than this share (percent) of the managed users, when it
    /// would disable more than one.
    pub max_disable_percent: u32,
    /// Mass-departure guard across executions: disables within this many minutes (by every run,
    /// execution and sweep) count together; one over the limits is held for an operator.
    pub guard_window_minutes: u32,
    /// DynamoDB table (name or ARN) of the tombstones deleted people leave; `onboarding
    /// bootstrap` creates it.
    pub tombstones_table: String,
    /// Days a tombstone is kept (DynamoDB TTL): at least the HR bus archive's retention, so a
    /// replay cannot bring a deleted person back. Default 400.
    pub tombstone_days: u32,
    /// The target (the offboard state machine's ARN) a one-time EventBridge schedule per
    /// scheduled departure starts at `disable-at`, and the role the scheduler uses. Unset (the
    /// CLI): the sweep alone disables scheduled departures.
    pub schedule_target: Option<String>,
    pub schedule_role: Option<String>,
    /// Lets every run and sweep pass the guard (the CLI's `--allow-mass-offboarding` does it once).
    pub allow_mass_offboarding: bool,
    /// Skips service-specific credentials (CodeCommit, Keyspaces) at disable and delete. Only for
    /// an emulator without that API (moto); in AWS, DeleteUser fails while such credentials
    /// remain. Unset: skipped only when the SDK talks to a custom endpoint (an emulator).
    pub skip_service_specific_credentials: Option<bool>,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            timezone: "UTC".into(),
            lead_days: 0,
            grace_days: 30,
            protect: Vec::new(),
            max_disables: 10,
            max_disable_percent: 10,
            guard_window_minutes: 60,
            tombstones_table: "employee-lifecycle-tombstones".into(),
            tombstone_days: 400,
            schedule_target: None,
            schedule_role: None,
            allow_mass_offboarding: false,
            skip_service_specific_credentials: None,
        }
    }
}

impl LifecycleConfig {
    /// The configured time zone (checked by [`Config::validate`]; UTC if somehow invalid).
    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

/// A configuration that cannot be used; names the key (or the TOML position).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config {origin}: {message}")]
    Syntax { origin: String, message: String },
    #[error("config {origin}: {error}")]
    Invalid { origin: String, error: ValidationError },
    #[error("no configuration: set {ENV_CONFIG} (TOML text) or {ENV_CONFIG_FILE} (a path)")]
    Absent,
}

impl Config {
    /// The shipped configuration ([`SHIPPED`]).
    pub fn shipped() -> Result<Self, ConfigError> {
        Self::parse(SHIPPED, "onboarding.toml")
    }

    /// The shipped configuration with the shipped Identity Center sample appended
    /// (`onboarding.identity-center.toml`), as the tests and the demo run it.
    #[cfg(test)]
    pub(crate) fn shipped_identity_center() -> Result<Self, ConfigError> {
        let sample = include_str!("../../../onboarding.identity-center.toml");
        Self::parse(&format!("{SHIPPED}\n{sample}"), "onboarding.toml + onboarding.identity-center.toml")
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// For Lambdas: the TOML in `ONBOARDING_CONFIG`, or the file in `ONBOARDING_CONFIG_FILE`.
    pub fn from_env() -> Result<Self, ConfigError> {
        if let Ok(text) = std::env::var(ENV_CONFIG) {
            return Self::parse(&text, ENV_CONFIG);
        }
        if let Ok(path) = std::env::var(ENV_CONFIG_FILE) {
            return Self::load(Path::new(&path));
        }
        Err(ConfigError::Absent)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            origin: origin.to_owned(),
            // Where, and what is wrong; not the offending line itself, which can be any length.
            message: match e.span() {
                Some(span) => missing(text, span.start, e.message()).unwrap_or_else(|| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
                    format!("line {line}, column {column}: {}", clip(e.message().trim_end(), 300))
                }),
                None => clip(e.message().trim_end(), 300),
            }
            .replace('\n', " "),
        })?;
        cfg.validate().map_err(|error| ConfigError::Invalid { origin: origin.to_owned(), error })?;
        Ok(cfg)
    }

    /// The config's own tables that must be there.
    const REQUIRED_TABLES: [&'static str; 4] = ["iam", "groups", "secrets", "topics"];

    pub fn validate(&self) -> Result<(), ValidationError> {
        self.validate_intake()?;
        self.review.validate()?;
        match (self.target.kind, &self.identity_center) {
            (TargetKind::IdentityCenter, None) => {
                return Err(ValidationError::new(
                    "identity_center",
                    "[identity_center] is required when target.kind = \"identity-center\" (portal_url at least)",
                ));
            }
            (_, Some(ic)) => ic.validate(&self.groups.allowed)?,
            (TargetKind::Iam, None) => {}
        }
        if self.trail.retention_days == 0 {
            return Err(ValidationError::new("trail.retention_days", "a whole number of days, at least 1"));
        }
        let p = &self.iam.user_path;
        if !(p.starts_with('/') && p.ends_with('/') && p.len() <= 512 && p.chars().all(|c| c.is_ascii_graphic())) {
            return Err(ValidationError::new(
                "iam.user_path",
                format!("`{}` is not an IAM path; expected e.g. `/employees/`", clip(p, 96)),
            ));
        }
        if p == "/" {
            return Err(ValidationError::new(
                "iam.user_path",
                "must not be `/`: managed users live under their own path, e.g. `/employees/`",
            ));
        }
        if self.iam.permissions_boundary.trim().is_empty() {
            return Err(ValidationError::new("iam.permissions_boundary", "must name a policy (name or ARN)"));
        }
        self.groups.validate()?;
        let prefix = &self.secrets.prefix;
        if prefix.is_empty()
            || prefix.len() > 100
            || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
        {
            return Err(ValidationError::new(
                "secrets.prefix",
                "1-100 characters of letters, digits and / _ + = . @ -",
            ));
        }
        for (key, list) in [("secrets.readers", &self.secrets.readers), ("secrets.writers", &self.secrets.writers)] {
            for (i, r) in list.iter().enumerate() {
                if !r.starts_with("arn:") {
                    return Err(ValidationError::new(format!("{key}[{i}]"), "must be an IAM principal ARN"));
                }
            }
        }
        if !(1..=3650).contains(&self.secrets.initial_ttl_days) {
            return Err(ValidationError::new("secrets.initial_ttl_days", "must be between 1 and 3650"));
        }
        for (key, t) in [("topics.notifications", &self.topics.notifications), ("topics.audit", &self.topics.audit)] {
            if t.trim().is_empty() {
                return Err(ValidationError::new(key, "must name an SNS topic (name or ARN)"));
            }
        }
        if let Some(u) = &self.console.sign_in_url
            && !u.starts_with("https://")
        {
            return Err(ValidationError::new("console.sign_in_url", "must be an https:// URL"));
        }
        let l = &self.lifecycle;
        if jiff::tz::TimeZone::get(&l.timezone).is_err() {
            return Err(ValidationError::new(
                "lifecycle.timezone",
                format!("`{}` is not an IANA time zone; expected e.g. `UTC` or `Europe/Berlin`", clip(&l.timezone, 96)),
            ));
        }
        if l.lead_days > 365 {
            return Err(ValidationError::new("lifecycle.lead_days", "must be between 0 and 365"));
        }
        if l.grace_days > 3650 {
            return Err(ValidationError::new("lifecycle.grace_days", "must be between 0 and 3650"));
        }
        if !(1..=10_080).contains(&l.guard_window_minutes) {
            return Err(ValidationError::new("lifecycle.guard_window_minutes", "must be between 1 and 10080 (a week)"));
        }
        if !(1..=3650).contains(&l.tombstone_days) {
            return Err(ValidationError::new("lifecycle.tombstone_days", "must be between 1 and 3650"));
        }
        if l.tombstones_table.trim().is_empty() {
            return Err(ValidationError::new("lifecycle.tombstones_table", "must name a DynamoDB table (name or ARN)"));
        }
        match (&l.schedule_target, &l.schedule_role) {
            (None, None) => {}
            (Some(t), Some(r)) if t.starts_with("arn:") && r.starts_with("arn:") => {}
            _ => {
                return Err(ValidationError::new(
                    "lifecycle.schedule_target",
                    "schedule_target and schedule_role go together, both ARNs (or neither: the sweep alone disables)",
                ));
            }
        }
        if l.max_disable_percent > 100 {
            return Err(ValidationError::new("lifecycle.max_disable_percent", "must be between 0 and 100"));
        }
        let r = &self.retry;
        if r.max_attempts == 0 || r.max_attempts > 20 {
            return Err(ValidationError::new("retry.max_attempts", "must be between 1 and 20"));
        }
        if r.base_delay_ms > r.max_delay_ms || r.max_delay_ms > 60_000 {
            return Err(ValidationError::new("retry.max_delay_ms", "must be at least base_delay_ms and at most 60000"));
        }
        Ok(())
    }

    /// `[identity_center]` when it is the target (validation makes it present then).
    pub fn identity_center_target(&self) -> Option<&IdentityCenterConfig> {
        self.identity_center.as_ref().filter(|_| self.target.kind == TargetKind::IdentityCenter)
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.retry.max_attempts,
            base_delay: Duration::from_millis(self.retry.base_delay_ms),
            max_delay: Duration::from_millis(self.retry.max_delay_ms),
        }
    }

    fn validate_intake(&self) -> Result<(), ValidationError> {
        let mut seen = std::collections::BTreeSet::new();
        for (i, src) in self.intake.sources.iter().enumerate() {
            let at = |k: &str| format!("intake.sources[{i}].{k}");
            let n = &src.name;
            if n.is_empty()
                || n.len() > 32
                || !n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(ValidationError::new(at("name"), "1-32 characters of a-z, 0-9 and -"));
            }
            if !seen.insert(n.as_str()) {
                return Err(ValidationError::new(at("name"), format!("`{n}` is named twice")));
            }
            if src.secrets.len() > 2 || src.secrets.iter().any(|a| !a.starts_with("arn:")) {
                return Err(ValidationError::new(
                    at("secrets"),
                    "at most two Secrets Manager ARNs (two during a rotation)",
                ));
            }
            let signing = signing_secrets_prefix(&self.secrets.prefix);
            if let Some(arn) =
                src.secrets.iter().find(|a| a.split_once(":secret:").is_none_or(|(_, n)| !n.starts_with(&signing)))
            {
                return Err(ValidationError::new(
                    at("secrets"),
                    format!(
                        "`{arn}` is not named `{signing}...`: signing secrets live under that prefix, which the \
                         employees' permissions boundary denies them"
                    ),
                ));
            }
            if src.secret_env.is_some() && src.secret_file.is_some() {
                return Err(ValidationError::new(
                    at("secret_env"),
                    "name the secret in one place: secret_env or secret_file",
                ));
            }
        }
        Ok(())
    }

    /// Secret name for a user's initial console password.
    pub fn password_secret_name(&self, user: &str) -> String {
        format!("{}/{user}/console-password", self.secrets.prefix)
    }

    /// Secret name for a user's initial access key.
    pub fn access_key_secret_name(&self, user: &str) -> String {
        format!("{}/{user}/access-key", self.secrets.prefix)
    }
}

/// A missing key said as an operator reads it: `[iam] permissions_boundary is required` (with
/// the table's line), or `[topics] is required` for a missing table; `None` for other errors.
fn missing(text: &str, at: usize, message: &str) -> Option<String> {
    let field = message.strip_prefix("missing field `")?.split('`').next()?;
    let start = at.min(text.len());
    let header = text[start..].lines().next().map(str::trim).filter(|l| l.starts_with('['));
    if start == 0 && Config::REQUIRED_TABLES.contains(&field) {
        return Some(format!("[{field}] is required"));
    }
    let header = header?;
    let line = text[..start].matches('\n').count() + 1;
    let table = header.trim_start_matches('[').split(']').next().unwrap_or_default().trim();
    let table = if header.starts_with("[[") { format!("[[{table}]]") } else { format!("[{table}]") };
    Some(format!("line {line}: {table} {field} is required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_config_is_valid() {
        let c = Config::parse(SHIPPED, "onboarding.toml").expect("shipped config");
        assert_eq!(c.groups.always, ["AllEmployees"]);
        assert_eq!(c.topics.audit, "onboarding-audit");
        assert_eq!(c.topics.notifications, "onboarding-notifications");
    }

    #[test]
    fn unknown_key_is_named() {
        let text = SHIPPED.replace("[topics]", "[topics]\nnotificaton = \"x\"");
        let e = Config::parse(&text, "t.toml").expect_err("unknown key").to_string();
        assert!(e.contains("notificaton"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = Config::parse(&SHIPPED.replace("user_path = \"/employees/\"", "user_path = \"employees\""), "t")
            .expect_err("bad path")
            .to_string();
        assert!(e.contains("iam.user_path"), "{e}");
        let e = Config::parse(&SHIPPED.replace("max_attempts = 6", "max_attempts = 0"), "t")
            .expect_err("attempts")
            .to_string();
        assert!(e.contains("retry.max_attempts"), "{e}");
        let e = Config::parse(&SHIPPED.replace("timezone = \"UTC\"", "timezone = \"Mars/Olympus\""), "t")
            .expect_err("tz")
            .to_string();
        assert!(e.contains("lifecycle.timezone") && e.contains("Europe/Berlin"), "{e}");
    }

    #[test]
    fn signing_secrets_live_where_the_boundary_denies_employees() {
        let with = |arn: &str| format!("{SHIPPED}\n[[intake.sources]]\nname = \"workday\"\nsecrets = [\"{arn}\"]\n");
        let ok = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:employee-lifecycle-intake/workday-AbCdEf";
        assert!(Config::parse(&with(ok), "t").is_ok());
        for elsewhere in [
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hr/workday-signing-AbCdEf",
            // The initial credentials' prefix is not the signing secrets' (the sweep retires those).
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:employee-lifecycle/intake/workday-AbCdEf",
        ] {
            let e = Config::parse(&with(elsewhere), "t").expect_err("outside the prefix").to_string();
            assert!(e.contains("intake.sources[0].secrets") && e.contains("employee-lifecycle-intake/"), "{e}");
        }
    }

    #[test]
    fn archived_objects_are_locked_for_400_days_unless_configured() {
        let c = Config::parse(SHIPPED, "t").expect("shipped");
        assert_eq!(c.trail.retention_days, 400);
        let c = Config::parse(&format!("{SHIPPED}\n[trail]\nretention_days = 2555\n"), "t").expect("seven years");
        assert_eq!(c.trail.retention_days, 2555);
        let e = Config::parse(&format!("{SHIPPED}\n[trail]\nretention_days = 0\n"), "t").expect_err("zero").to_string();
        assert!(e.contains("trail.retention_days") && e.contains("at least 1"), "{e}");
    }

    #[test]
    fn the_target_is_iam_unless_identity_center_is_chosen_and_configured() {
        assert_eq!(Config::parse(SHIPPED, "t").expect("shipped").target.kind, TargetKind::Iam);
        let ic = format!("[target]\nkind = \"identity-center\"\n{SHIPPED}");
        let e = Config::parse(&ic, "t").expect_err("no section").to_string();
        assert!(e.contains("identity_center") && e.contains("portal_url"), "{e}");
        let section = "\n[identity_center]\nportal_url = \"https://example.awsapps.com/start\"\n\n\
                       [[identity_center.permission_sets]]\nname = \"Developers\"\n\n\
                       [[identity_center.assignments]]\ngroup = \"Developers\"\npermission_set = \"Developers\"\n\
                       accounts = [\"111122223333\"]\n";
        let c = Config::parse(&format!("{ic}{section}"), "t").expect("identity center");
        let got = c.identity_center.expect("section");
        assert_eq!(
            (c.target.kind, got.max_tps, got.permission_sets[0].session_duration.as_str()),
            (TargetKind::IdentityCenter, 20, "PT8H")
        );
        let e = Config::parse(&SHIPPED.replace("[iam]", "[target]\nkind = \"sso\"\n\n[iam]"), "t")
            .expect_err("kind")
            .to_string();
        assert!(e.contains("iam") && e.contains("identity-center"), "says what is accepted: {e}");
        let bad = section.replace("\"Developers\"\naccounts", "\"Admin\"\naccounts");
        let e = Config::parse(&format!("{ic}{bad}"), "t").expect_err("unknown permission set").to_string();
        assert!(e.contains("identity_center.assignments[0].permission_set"), "{e}");
    }

    #[test]
    fn a_missing_key_is_named_with_its_table() {
        let without = |old: &str, new: &str| {
            assert!(SHIPPED.contains(old), "{old}");
            Config::parse(&SHIPPED.replace(old, new), "t").expect_err(old).to_string()
        };
        let e = without("permissions_boundary = \"employee-permissions-boundary\"\n", "");
        assert!(e.ends_with("[iam] permissions_boundary is required"), "{e}");
        let e = without("[topics]\nnotifications = \"onboarding-notifications\"\naudit = \"onboarding-audit\"\n", "");
        assert_eq!(e, "config t: [topics] is required");
        let e = without("department = \"Finance\"\ngroups = [\"Finance\"]", "department = \"Finance\"");
        assert!(e.contains(": [[groups.rules]] groups is required"), "{e}");
        let e = without("[secrets]\n", "[secret]\n");
        assert!(e.contains("unknown field `secret`") && e.contains("`secrets`"), "other errors keep their words: {e}");
    }
}
