//! IAM calls used by the steps. Every call goes through [`Iam::call`]: SDK error → [`Error::Aws`]
//! with the AWS code, retried within the policy when the predicate says it is worth it.
//!
//! - this file: the client, its calls and paging, the cache, [`User`] and the shared conversions;
//! - [`users`], [`groups`], [`credentials`] (console password, access keys and the other
//!   long-lived credentials, MFA devices), [`policies`], [`account`] (roles, the simulator, the
//!   summary, the credential report).

mod account;
mod credentials;
mod groups;
mod policies;
mod users;

pub use credentials::{Credential, CredentialKind};

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_iam::Client;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::Tag;

use super::{aws_error, is_code};
use crate::error::Error;
use crate::password::PasswordPolicy;
use crate::retry::{self, RetryPolicy};

#[derive(Clone, Debug)]
pub struct Iam {
    client: Client,
    retry: RetryPolicy,
    /// What does not change within minutes, read once per process (or warm Lambda) per
    /// [`FRESH_FOR`]: the password policy and the groups' ARNs.
    cache: std::sync::Arc<Cache>,
}

/// How long a cached answer is used before it is read again (an administrator's change to the
/// password policy or a group is seen within this).
pub const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Debug, Default)]
struct Cache {
    password_policy: std::sync::Mutex<Option<(std::time::Instant, PasswordPolicy)>>,
    groups: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, String)>>,
}

/// The value if read within [`FRESH_FOR`].
fn fresh<T: Clone>(entry: Option<&(std::time::Instant, T)>) -> Option<T> {
    entry.filter(|(at, _)| at.elapsed() < FRESH_FOR).map(|(_, v)| v.clone())
}

/// A user as the steps see it. `boundary` and `password_last_used` come from `GetUser` (AWS's
/// `ListUsers` returns no boundary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub tags: BTreeMap<String, String>,
    /// The permissions boundary's ARN.
    pub boundary: Option<String>,
    /// When the console password was last used to sign in.
    pub password_last_used: Option<chrono::DateTime<chrono::Utc>>,
}

/// A user with what grants it access ([`Iam::user_details`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetail {
    pub user: User,
    pub groups: Vec<String>,
    /// Managed policies attached to the user directly (ARNs).
    pub attached_policies: Vec<String>,
    /// Inline policies of the user (names).
    pub inline_policies: Vec<String>,
    /// When the user was made.
    pub created: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&aws_sdk_iam::types::User> for User {
    fn from(u: &aws_sdk_iam::types::User) -> Self {
        Self {
            name: u.user_name().to_owned(),
            arn: u.arn().to_owned(),
            path: u.path().to_owned(),
            tags: u.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect(),
            boundary: u.permissions_boundary().and_then(|b| b.permissions_boundary_arn()).map(str::to_owned),
            password_last_used: u.password_last_used().and_then(|t| to_chrono(*t)),
        }
    }
}

fn to_chrono(t: aws_sdk_iam::primitives::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

fn active(status: Option<&aws_sdk_iam::types::StatusType>) -> bool {
    status.is_some_and(|s| s.as_str() == "Active")
}

fn status(active: bool) -> aws_sdk_iam::types::StatusType {
    if active { aws_sdk_iam::types::StatusType::Active } else { aws_sdk_iam::types::StatusType::Inactive }
}

/// The marker of the next page, when AWS says the listing is truncated.
fn truncated(is_truncated: bool, marker: Option<&str>) -> Option<&str> {
    marker.filter(|_| is_truncated)
}

/// `Ok(false)` for `NoSuchEntity`: what was to be removed is already gone.
fn gone<T>(r: Result<T, Error>) -> Result<bool, Error> {
    Ok(absent(r)?.is_some())
}

fn to_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, Error> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| Error::Input(format!("tag {k}: {e}"))))
        .collect()
}

/// `Ok(None)` for `NoSuchEntity`: the thing asked about does not exist.
fn absent<T>(r: Result<T, Error>) -> Result<Option<T>, Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_code(&e, "NoSuchEntity") => Ok(None),
        Err(e) => Err(e),
    }
}
impl Iam {
    pub fn new(client: Client, retry: RetryPolicy) -> Self {
        Self { client, retry, cache: Default::default() }
    }

    /// One API call: errors keep their AWS code; `retryable` ones are retried within the policy.
    async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        retryable: fn(&Error) -> bool,
        send: F,
    ) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, super::HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        retry::retry(self.retry, operation, retryable, || async { send().await.map_err(|e| aws_error(operation, e)) })
            .await
    }

    /// Every item of a marker-paginated listing, one call per page: `send(marker)` requests a
    /// page, `items(page)` takes what it holds. The next page is asked for while AWS says the
    /// listing is truncated.
    async fn paged<T, O, E, F, Fut>(
        &self,
        operation: &'static str,
        retryable: fn(&Error) -> bool,
        send: F,
        items: impl Fn(&O) -> Vec<T>,
        next: impl Fn(&O) -> Option<&str>,
    ) -> Result<Vec<T>, Error>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: Future<Output = Result<O, SdkError<E, super::HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let send = &send;
        let fetch =
            |marker: Option<String>| async move { self.call(operation, retryable, || send(marker.clone())).await };
        super::all_pages(fetch, items, next).await
    }
}
