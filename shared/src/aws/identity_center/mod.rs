//! IAM Identity Center: the Identity Store (groups) and sso-admin (instances, permission sets,
//! account assignments). Every call waits its turn on one [`Pace`] per process
//! (`identity_center.max_tps`); a throttled or transient failure is retried after the
//! `RetryAfterSeconds` AWS names, which the whole process waits out, or with backoff
//! (`IdentityCenter::call`).
//!
//! - this file: the clients, their pace and retries, and the one pagination helper;
//! - [`instances`]: which instance and identity store the config means;
//! - [`store`]: the Identity Store's users, groups and memberships;
//! - [`admin`]: sso-admin's permission sets, their policies and provisioning, and account
//!   assignments.

mod admin;
mod instances;
mod store;

pub use admin::{Assigning, PATIENCE, PermissionSet, Polled, Principal};
pub use instances::Instance;
pub use store::{NewUser, StoreUser};

use std::time::Duration;

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

use super::{HttpResponse, aws_error};
use crate::error::Error;
use crate::pace::Pace;
use crate::retry::RetryPolicy;

/// The Identity Store and sso-admin clients, sharing one pace.
#[derive(Clone, Debug)]
pub struct IdentityCenter {
    store: aws_sdk_identitystore::Client,
    admin: aws_sdk_ssoadmin::Client,
    pace: Pace,
    retry: RetryPolicy,
}

/// The longest `RetryAfterSeconds` honoured; a longer one waits this long, then tries again.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How long AWS asks the caller to wait: `RetryAfterSeconds` in the error's JSON body
/// (Identity Store's `ThrottlingException` and `InternalServerException`), else a `Retry-After`
/// header in seconds; at most [`LONGEST_RETRY_AFTER`].
fn retry_after<E>(e: &SdkError<E, HttpResponse>) -> Option<Duration> {
    let response = e.raw_response()?;
    let in_body = response
        .body()
        .bytes()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| v.get("RetryAfterSeconds").and_then(serde_json::Value::as_u64));
    let in_header = || response.headers().get("retry-after").and_then(|h| h.trim().parse::<u64>().ok());
    in_body.or_else(in_header).map(|s| Duration::from_secs(s).min(LONGEST_RETRY_AFTER))
}

impl IdentityCenter {
    /// Clients for `sdk` without the SDK's own retries: [`Self::call`] retries, honouring
    /// `RetryAfterSeconds`, under `retry`.
    pub fn new(sdk: &aws_config::SdkConfig, max_tps: u32, retry: RetryPolicy) -> Self {
        let off = aws_config::retry::RetryConfig::disabled();
        let store = aws_sdk_identitystore::config::Builder::from(sdk).retry_config(off.clone()).build();
        let admin = aws_sdk_ssoadmin::config::Builder::from(sdk).retry_config(off).build();
        Self::from_clients(
            aws_sdk_identitystore::Client::from_conf(store),
            aws_sdk_ssoadmin::Client::from_conf(admin),
            max_tps,
            retry,
        )
    }

    /// From clients built elsewhere (the tests' fault injection).
    pub fn from_clients(
        store: aws_sdk_identitystore::Client,
        admin: aws_sdk_ssoadmin::Client,
        max_tps: u32,
        retry: RetryPolicy,
    ) -> Self {
        Self { store, admin, pace: Pace::new(max_tps), retry }
    }

    /// One call: it waits its turn on the process's pace; a throttled or transient failure is
    /// tried again, up to the retry policy's attempts, after the `RetryAfterSeconds` AWS names
    /// (every call of the process waits it out, since the limit is the account's), or else
    /// after the policy's backoff. The SDK's own retries are off for these clients.
    async fn call<T, E, Fut>(&self, operation: &'static str, send: impl Fn() -> Fut) -> Result<T, Error>
    where
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut attempt = 1;
        loop {
            self.pace.wait().await;
            let e = match send().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let after = retry_after(&e);
            let e = aws_error(operation, e);
            if attempt >= self.retry.max_attempts || !e.is_transient() {
                return Err(e);
            }
            let wait = match after {
                Some(after) => {
                    self.pace.hold(after);
                    after
                }
                None => self.retry.delay(attempt),
            };
            tracing::warn!(
                operation,
                attempt,
                code = e.aws_code().unwrap_or("-"),
                wait_ms = wait.as_millis() as u64,
                retry_after = after.is_some(),
                "throttled or transient, retrying"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Every item of a token-paginated listing, each page through [`Self::call`]: `send(token)`
    /// requests a page, `items(page)` takes what it holds, `next(page)` is the next token.
    async fn paged<T, O, E, F, Fut>(
        &self,
        operation: &'static str,
        send: F,
        items: impl Fn(&O) -> Vec<T>,
        next: impl Fn(&O) -> Option<&str>,
    ) -> Result<Vec<T>, Error>
    where
        F: Fn(Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<O, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let send = &send;
        let fetch = |token: Option<String>| async move { self.call(operation, || send(token.clone())).await };
        super::all_pages(fetch, items, next).await
    }
}
