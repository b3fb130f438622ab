//! `[review]`: access reviews. Where campaigns are kept, who reviews a person without a manager,
//! where reviewers open their page, and the key their links are signed with.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::event::clip;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewConfig {
    /// The DynamoDB table holding campaigns and their items (`onboarding bootstrap` makes it).
    #[serde(default = "default_table")]
    pub table: String,
    /// Reviews the access of a person without a manager, and anyone's whose manager is themself.
    pub fallback_reviewer: Option<String>,
    /// Where reviewers open their page: `onboarding serve`'s address, or the deployed Function
    /// URL. Links are `{base_url}/reviews/{campaign}?token=...`.
    pub base_url: Option<String>,
    /// The key reviewers' links are signed with (32 bytes or more, any text), read from this
    /// environment variable or file by the CLI and `onboarding serve`.
    pub key_env: Option<String>,
    pub key_file: Option<String>,
    /// Deployed: the Secrets Manager secret (ARN) holding the key, which only the `reviews`
    /// function reads (the stack makes it and its resource policy).
    pub key_secret: Option<String>,
    /// Who signs and sends the reviewers' links: `cli` (this CLI, with `key_env`/`key_file`), or
    /// `function` (the deployed `reviews` function, asked through the campaign's record: the
    /// operator never holds the key).
    #[serde(default)]
    pub links: Links,
    /// Days a campaign runs unless `review start --due` says otherwise.
    #[serde(default = "default_due_days")]
    pub due_days: u32,
    /// A campaign whose revocations would touch more than this share of the people it reviews
    /// holds them for an operator (`review close --allow-mass-offboarding` carries them out).
    #[serde(default = "default_max_revoke_percent")]
    pub max_revoke_percent: u32,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            table: default_table(),
            fallback_reviewer: None,
            base_url: None,
            key_env: None,
            key_file: None,
            key_secret: None,
            links: Links::default(),
            due_days: default_due_days(),
            max_revoke_percent: default_max_revoke_percent(),
        }
    }
}

/// Who signs and sends the reviewers' links (see [`ReviewConfig::links`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Links {
    #[default]
    Cli,
    Function,
}

fn default_table() -> String {
    "employee-lifecycle-reviews".into()
}

fn default_due_days() -> u32 {
    14
}

fn default_max_revoke_percent() -> u32 {
    10
}

impl ReviewConfig {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Some(f) = &self.fallback_reviewer {
            crate::event::email("review.fallback_reviewer", f)?;
        }
        if let Some(u) = &self.base_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(ValidationError::new(
                "review.base_url",
                format!("`{}` is not an http(s) URL; expected e.g. `https://reviews.example.com`", clip(u, 64)),
            ));
        }
        if self.key_secret.as_ref().is_some_and(|a| !a.starts_with("arn:")) {
            return Err(ValidationError::new("review.key_secret", "the ARN of a Secrets Manager secret"));
        }
        if self.key_env.is_some() && self.key_file.is_some() {
            return Err(ValidationError::new("review.key_env", "name the key in one place: key_env or key_file"));
        }
        if !(1..=365).contains(&self.due_days) {
            return Err(ValidationError::new("review.due_days", "a whole number of days from 1 to 365"));
        }
        if !(1..=100).contains(&self.max_revoke_percent) {
            return Err(ValidationError::new("review.max_revoke_percent", "a whole number from 1 to 100"));
        }
        let t = &self.table;
        if t.len() < 3 || t.len() > 255 || !t.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) {
            return Err(ValidationError::new(
                "review.table",
                "a DynamoDB table name: 3-255 characters of a-z, A-Z, 0-9, _ - .",
            ));
        }
        Ok(())
    }
}
