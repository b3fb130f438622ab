//! A reviewer's link token: who (their email), which campaign, until when, signed with the
//! review key (HMAC-SHA256). No login exists: the token is the authentication, as a webhook's
//! signature is. It carries nothing about anyone else; the key never leaves the process.
//!
//! Shape: `{payload}.{mac}`, both base64url without padding; `payload` is
//! `{"c": campaign, "r": reviewer, "e": expiry (Unix seconds)}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::ValidationError;

/// The key reviewers' links are signed with. `Debug` hides it; it is never serialised.
pub struct Key(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "c")]
    pub campaign: String,
    #[serde(rename = "r")]
    pub reviewer: String,
    #[serde(rename = "e")]
    pub expires: i64,
}

/// Why a token is refused. The message never quotes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Missing,
    Malformed,
    BadSignature,
    Expired,
    OtherCampaign,
}

impl Refused {
    pub const fn why(self) -> &'static str {
        match self {
            Refused::Missing => "the link has no token: open the link from your review message",
            Refused::Malformed => "the link's token is damaged: open the link from your review message again",
            Refused::BadSignature => "the link's token is not valid: ask for a new one",
            Refused::Expired => "the link has expired: ask the campaign's operator for a reminder with a new link",
            Refused::OtherCampaign => "the link belongs to another campaign",
        }
    }
}

const CONTEXT: &[u8] = b"employee-lifecycle review token v1\n";

impl Key {
    /// At least 32 bytes of key material (the text as given).
    pub fn new(material: &[u8], field: &str) -> Result<Self, ValidationError> {
        if material.len() < 32 {
            return Err(ValidationError::new(
                field,
                "the review key must be at least 32 bytes (e.g. `openssl rand -hex 32`)",
            ));
        }
        Ok(Self(Zeroizing::new(material.to_vec())))
    }

    /// The key `[review]` names: its `key_env` variable or `key_file` (trailing whitespace
    /// dropped). The error names the field and never quotes the key.
    pub fn local(cfg: &crate::config::ReviewConfig) -> Result<Self, ValidationError> {
        let text = match (&cfg.key_env, &cfg.key_file) {
            (Some(var), _) => Zeroizing::new(std::env::var(var).map_err(|_| {
                ValidationError::new("review.key_env", format!("the environment variable `{var}` is not set"))
            })?),
            (None, Some(path)) => Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|e| ValidationError::new("review.key_file", format!("cannot read `{path}`: {e}")))?,
            ),
            (None, None) => {
                return Err(ValidationError::new(
                    "review.key_env",
                    "name where the review links' signing key is: key_env or key_file",
                ));
            }
        };
        let field = if cfg.key_env.is_some() { "review.key_env" } else { "review.key_file" };
        Self::new(text.trim_end().as_bytes(), field)
    }

    fn mac(&self, what: &[u8]) -> hmac::Hmac<sha2::Sha256> {
        // HMAC takes a key of any length.
        let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key length");
        m.update(CONTEXT);
        m.update(what);
        m
    }

    /// A token for `reviewer` in `campaign`, valid until `expires`.
    pub fn issue(&self, campaign: &str, reviewer: &str, expires: DateTime<Utc>) -> String {
        let claims = Claims { campaign: campaign.into(), reviewer: reviewer.into(), expires: expires.timestamp() };
        let payload = B64.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let mac = B64.encode(self.mac(payload.as_bytes()).finalize().into_bytes());
        format!("{payload}.{mac}")
    }

    /// The claims of a token for `campaign`, if it is this key's, unexpired at `now`.
    pub fn verify(&self, token: Option<&str>, campaign: &str, now: DateTime<Utc>) -> Result<Claims, Refused> {
        let token = token.filter(|t| !t.is_empty()).ok_or(Refused::Missing)?;
        let (payload, mac) = token.split_once('.').ok_or(Refused::Malformed)?;
        let mac = B64.decode(mac).map_err(|_| Refused::Malformed)?;
        self.mac(payload.as_bytes()).verify_slice(&mac).map_err(|_| Refused::BadSignature)?;
        let claims: Claims =
            B64.decode(payload).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or(Refused::Malformed)?;
        if claims.expires <= now.timestamp() {
            return Err(Refused::Expired);
        }
        if claims.campaign != campaign {
            return Err(Refused::OtherCampaign);
        }
        Ok(claims)
    }

    /// The value a page's form carries back: bound to its token, so a form cannot be posted
    /// with another reviewer's link, nor built by a site that does not have the page.
    pub fn form_check(&self, token: &str) -> String {
        let mut m = self.mac(b"form\n");
        m.update(token.as_bytes());
        B64.encode(&m.finalize().into_bytes()[..16])
    }

    /// Whether `given` is [`Key::form_check`] of `token` (compared in constant time).
    pub fn form_ok(&self, token: &str, given: &str) -> bool {
        let Ok(given) = B64.decode(given) else { return false };
        let mut m = self.mac(b"form\n");
        m.update(token.as_bytes());
        m.verify_truncated_left(&given).is_ok() && given.len() == 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::new(b"0123456789abcdef0123456789abcdef", "k").expect("key")
    }

    fn at(s: &str) -> DateTime<Utc> {
        crate::lifecycle::parse_stamp(s).expect("time")
    }

    #[test]
    fn a_token_names_its_reviewer_and_campaign_until_it_expires() {
        let t = key().issue("q4", "boss@example.com", at("2026-12-15T00:00:00Z"));
        let c = key().verify(Some(&t), "q4", at("2026-12-14T23:59:59Z")).expect("valid");
        assert_eq!((c.campaign.as_str(), c.reviewer.as_str()), ("q4", "boss@example.com"));
        assert_eq!(key().verify(Some(&t), "q4", at("2026-12-15T00:00:00Z")), Err(Refused::Expired));
        assert_eq!(key().verify(Some(&t), "q3", at("2026-12-01T00:00:00Z")), Err(Refused::OtherCampaign));
        assert_eq!(key().verify(None, "q4", at("2026-12-01T00:00:00Z")), Err(Refused::Missing));
        assert_eq!(key().verify(Some("x"), "q4", at("2026-12-01T00:00:00Z")), Err(Refused::Malformed));
    }

    #[test]
    fn a_token_changed_or_signed_with_another_key_is_refused() {
        let t = key().issue("q4", "boss@example.com", at("2026-12-15T00:00:00Z"));
        let (payload, mac) = t.split_once('.').expect("two parts");
        // Another reviewer's payload with this mac.
        let forged = B64.encode(br#"{"c":"q4","r":"other@example.com","e":1999999999}"#);
        let now = at("2026-12-01T00:00:00Z");
        assert_eq!(key().verify(Some(&format!("{forged}.{mac}")), "q4", now), Err(Refused::BadSignature));
        let other = Key::new(b"another key of at least thirty-two bytes", "k").expect("key");
        assert_eq!(other.verify(Some(&t), "q4", now), Err(Refused::BadSignature));
        assert!(key().verify(Some(&format!("{payload}.{mac}")), "q4", now).is_ok());
    }

    #[test]
    fn the_form_check_binds_a_form_to_its_link_and_the_key_is_never_shown() {
        let k = key();
        let t = k.issue("q4", "boss@example.com", at("2026-12-15T00:00:00Z"));
        let u = k.issue("q4", "other@example.com", at("2026-12-15T00:00:00Z"));
        assert!(k.form_ok(&t, &k.form_check(&t)));
        assert!(!k.form_ok(&u, &k.form_check(&t)));
        assert!(!k.form_ok(&t, ""));
        assert_eq!(format!("{k:?}"), "Key(***)");
        assert!(Key::new(b"short", "review.key_env").is_err_and(|e| e.field == "review.key_env"));
    }
}
