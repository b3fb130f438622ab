//! Effects: the only modules that name AWS SDK types. Each wrapper turns SDK errors into
//! [`Error::Aws`] (keeping the AWS code and message) and retries IAM's transient answers within
//! the configured bounds; the SDK's own retry layer handles throttling and 5xx underneath.

use std::ops::ControlFlow;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

use crate::config::Config;
use crate::error::Error;
use crate::retry::RetryPolicy;

pub mod iam;
#[cfg(feature = "identity-center")]
pub mod identity_center;
#[cfg(feature = "intake")]
pub mod intake;
#[cfg(feature = "identity-center")]
pub mod people;
#[cfg(feature = "review")]
pub mod reviews;
#[cfg(feature = "trail")]
pub mod s3;
#[cfg(feature = "secrets")]
pub mod scheduler;
#[cfg(feature = "secrets")]
pub mod secrets;
pub mod sns;
#[cfg(feature = "operator")]
pub mod sts;
#[cfg(feature = "tombstones")]
pub mod tombstones;

/// Which certificate authorities the HTTPS client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// The system's CA bundle file (the CLI: it may run behind a corporate TLS proxy).
    System,
    /// Only the roots AWS endpoints chain to, built in (the Lambdas: they talk only to AWS, and
    /// parsing ~140 system roots was most of a cold start).
    AmazonRoots,
}

/// The roots every AWS service endpoint chains to.
pub const AMAZON_ROOTS: &str = include_str!("amazon-roots.pem");

/// Where distributions keep the one file with every trusted CA.
pub const CA_BUNDLES: [&str; 4] = [
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// The SDK configuration, from the standard sources (`AWS_REGION`, `AWS_PROFILE`,
/// `AWS_ENDPOINT_URL`, credentials chain), with the configured retry budget and an HTTPS client
/// that trusts `trust`. Retries back off exponentially with jitter from `retry.base_delay_ms`
/// to at most `retry.max_delay_ms` (the SDK's standard mode, with its retry quota). Its adaptive
/// mode was measured and not taken: under scattered throttling (10 % of calls) its client-side
/// rate limiter slowed 100 hires from 30 s to 265 s.
pub async fn load_sdk_config(cfg: &Config, trust: Trust) -> SdkConfig {
    let retry = aws_config::retry::RetryConfig::standard()
        .with_max_attempts(cfg.retry.max_attempts)
        .with_initial_backoff(std::time::Duration::from_millis(cfg.retry.base_delay_ms))
        .with_max_backoff(std::time::Duration::from_millis(cfg.retry.max_delay_ms));
    aws_config::defaults(BehaviorVersion::latest()).retry_config(retry).http_client(https_client(trust)).load().await
}

/// Whether the SDK found what every call needs, said as an operator can act on it: a region,
/// and credentials (asked for once, within 10 seconds). The CLI checks this before its first
/// call, instead of letting that call fail with the SDK's words.
pub async fn ready(sdk: &SdkConfig) -> Result<(), String> {
    use aws_sdk_iam::config::ProvideCredentials;
    if sdk.region().is_none() {
        return Err("no AWS region: set AWS_REGION, or a `region` in the profile AWS_PROFILE names".into());
    }
    let looked = "the SDK looked in the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), the \
                  profile AWS_PROFILE names in ~/.aws/config and ~/.aws/credentials (SSO and credential_process \
                  included), web identity, and the container and instance metadata; sign in (e.g. `aws sso \
                  login --profile NAME`) or set one of them";
    let Some(provider) = sdk.credentials_provider() else { return Err(format!("no AWS credentials: {looked}")) };
    match tokio::time::timeout(std::time::Duration::from_secs(10), provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            // The chain's own account, one line per provider tried, is for the debug log.
            tracing::debug!(error = %e, "credentials chain");
            Err(format!("no AWS credentials: {looked}"))
        }
        Err(_) => Err(format!("no AWS credentials within 10 s: {looked}")),
    }
}

/// The SDK's default HTTPS client (rustls with aws-lc) with an explicit trust store. The
/// default store reads the bundle *and* every file of the certificate directory. `SSL_CERT_FILE`
/// always wins; with no bundle found, the default store is used.
fn https_client(trust: Trust) -> aws_sdk_iam::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let from_env = std::env::var_os("SSL_CERT_FILE").and_then(|p| std::fs::read(p).ok());
    let pem = match (from_env, trust) {
        (Some(pem), _) => Some(pem),
        (None, Trust::AmazonRoots) => Some(AMAZON_ROOTS.as_bytes().to_vec()),
        (None, Trust::System) => CA_BUNDLES.iter().find_map(|p| std::fs::read(p).ok().filter(|b| !b.is_empty())),
    };
    let store = match pem {
        Some(pem) => TrustStore::empty().with_pem_certificate(pem),
        None => TrustStore::default(),
    };
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(TlsContext::builder().with_trust_store(store).build().unwrap_or_default())
        .build_https()
}

/// The clients, built once per process.
#[derive(Clone, Debug)]
pub struct Aws {
    /// The SDK talks to an endpoint other than AWS's own (`AWS_ENDPOINT_URL`: an emulator).
    pub custom_endpoint: bool,
    pub iam: iam::Iam,
    pub sns: sns::Sns,
    #[cfg(feature = "secrets")]
    pub secrets: secrets::Secrets,
    #[cfg(feature = "secrets")]
    pub scheduler: scheduler::Scheduler,
    #[cfg(feature = "tombstones")]
    pub tombstones: tombstones::Tombstones,
    /// Access-review campaigns.
    #[cfg(feature = "review")]
    pub reviews: reviews::Reviews,
    /// Whom this system owns in Identity Center.
    #[cfg(feature = "identity-center")]
    pub people: people::People,
}

impl Aws {
    pub fn new(sdk: &SdkConfig, retry: RetryPolicy) -> Self {
        Self {
            custom_endpoint: sdk.endpoint_url().is_some(),
            iam: iam::Iam::new(aws_sdk_iam::Client::new(sdk), retry),
            sns: sns::Sns::new(aws_sdk_sns::Client::new(sdk)),
            #[cfg(feature = "secrets")]
            secrets: secrets::Secrets::new(aws_sdk_secretsmanager::Client::new(sdk)),
            #[cfg(feature = "secrets")]
            scheduler: scheduler::Scheduler::new(aws_sdk_scheduler::Client::new(sdk)),
            #[cfg(feature = "tombstones")]
            tombstones: tombstones::Tombstones::new(aws_sdk_dynamodb::Client::new(sdk)),
            #[cfg(feature = "review")]
            reviews: reviews::Reviews::new(aws_sdk_dynamodb::Client::new(sdk)),
            #[cfg(feature = "identity-center")]
            people: people::People::of(sdk),
        }
    }
}

/// The SDK's HTTP response type (the same for every service client).
pub type HttpResponse = aws_sdk_iam::config::http::HttpResponse;

/// Walks a paginated listing page by page until `each` breaks (its value is returned) or the
/// last page. `fetch` gets the marker the previous page named (none for the first page); `next`
/// reads the marker a page names for the one after it (none or empty on the last page).
pub(crate) async fn walk_pages<O, Fut, B>(
    fetch: impl Fn(Option<String>) -> Fut,
    next: impl Fn(&O) -> Option<&str>,
    mut each: impl FnMut(&O) -> ControlFlow<B>,
) -> Result<Option<B>, Error>
where
    Fut: Future<Output = Result<O, Error>>,
{
    let mut marker: Option<String> = None;
    loop {
        let page = fetch(marker.take()).await?;
        if let ControlFlow::Break(found) = each(&page) {
            return Ok(Some(found));
        }
        match next(&page).filter(|m| !m.is_empty()) {
            Some(m) => marker = Some(m.to_owned()),
            None => return Ok(None),
        }
    }
}

/// Every item of a paginated listing ([`walk_pages`] to the end).
pub(crate) async fn all_pages<T, O, Fut>(
    fetch: impl Fn(Option<String>) -> Fut,
    items: impl Fn(&O) -> Vec<T>,
    next: impl Fn(&O) -> Option<&str>,
) -> Result<Vec<T>, Error>
where
    Fut: Future<Output = Result<O, Error>>,
{
    let mut all = Vec::new();
    walk_pages(fetch, next, |page| {
        all.extend(items(page));
        ControlFlow::<()>::Continue(())
    })
    .await?;
    Ok(all)
}

/// One DynamoDB record (an item, or the key a page stopped at).
#[cfg(any(feature = "identity-center", feature = "review"))]
pub(crate) type Record = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

/// Every record of a paginated DynamoDB read (`Query`, `Scan`): `fetch` gets the key the previous
/// page stopped at (none for the first page) and returns the page's records and where it stopped
/// (none or empty on the last page). DynamoDB's markers are keys, not strings: [`all_pages`] for
/// the rest.
#[cfg(any(feature = "identity-center", feature = "review"))]
pub(crate) async fn table_pages<Fut>(fetch: impl Fn(Option<Record>) -> Fut) -> Result<Vec<Record>, Error>
where
    Fut: Future<Output = Result<(Vec<Record>, Option<Record>), Error>>,
{
    let mut all = Vec::new();
    let mut start = None;
    loop {
        let (records, next) = fetch(start.take()).await?;
        all.extend(records);
        match next {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(all),
        }
    }
}

/// The item of `table` whose string key attribute `key` is `value`, read consistently.
#[cfg(feature = "tombstones")]
pub(crate) async fn get_keyed_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
    value: &str,
) -> Result<Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>, Error> {
    let out = client
        .get_item()
        .table_name(table)
        .key(key, aws_sdk_dynamodb::types::AttributeValue::S(value.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| aws_error("dynamodb:GetItem", e))?;
    Ok(out.item)
}

/// Creates a DynamoDB table keyed by the string attribute `key` (and the string sort key `sort`,
/// when given), billed on demand, unless one of that name exists; returns whether it did.
#[cfg(feature = "tombstones")]
pub(crate) async fn create_keyed_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
    sort: Option<&str>,
) -> Result<bool, Error> {
    use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
    let attribute = |name: &str| {
        built(AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build())
    };
    let element =
        |name: &str, kind: KeyType| built(KeySchemaElement::builder().attribute_name(name).key_type(kind).build());
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(key)?)
        .key_schema(element(key, KeyType::Hash)?);
    if let Some(sort) = sort {
        create = create.attribute_definitions(attribute(sort)?).key_schema(element(sort, KeyType::Range)?);
    }
    let created = create.send().await.map_err(|e| aws_error("dynamodb:CreateTable", e));
    written(created, "ResourceInUseException")
}

#[cfg(feature = "tombstones")]
pub(crate) fn built<T>(part: Result<T, aws_sdk_iam::error::BuildError>) -> Result<T, Error> {
    part.map_err(|e| Error::Input(e.to_string()))
}

/// Converts an SDK error into one line an operator can read: `service:Action failed: Code:
/// message (HTTP status, request id ...)`. The SDK's whole error chain goes to the debug log.
pub fn aws_error<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_iam::operation::RequestId;
    tracing::debug!(operation, error = ?err, "AWS call failed");
    let (code, message) = code_and_message(&err);
    let status = err.raw_response().map(|r| r.status().as_u16());
    let request_id = err.request_id().map(str::to_owned);
    Error::Aws { operation, code, message, status, request_id }
}

fn code_and_message<E>(err: &SdkError<E, HttpResponse>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = match (err, err.code()) {
        (_, Some(c)) => c,
        (SdkError::TimeoutError(_), None) => "Timeout",
        (SdkError::DispatchFailure(_), None) => "Dispatch",
        _ => "Unknown",
    };
    let message = match err.message() {
        Some(m) => m.to_owned(),
        None => match err {
            SdkError::TimeoutError(_) => "the request timed out".to_owned(),
            SdkError::DispatchFailure(_) => format!("could not send the request: {}", innermost(err)),
            SdkError::ConstructionFailure(_) => format!("could not build the request: {}", innermost(err)),
            SdkError::ResponseError(_) => "the response could not be read".to_owned(),
            _ => "the service answered without an error message the SDK could read".to_owned(),
        },
    };
    (code.to_owned(), message.lines().next().unwrap_or_default().chars().take(300).collect())
}

/// The deepest cause of an error (e.g. `Connection refused (os error 111)`), on one line.
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut e = err;
    while let Some(next) = e.source() {
        e = next;
    }
    e.to_string()
}

/// Whether an error carries this AWS code.
pub(crate) fn is_code(e: &Error, code: &str) -> bool {
    e.aws_code() == Some(code)
}

/// Whether a write took place: `Ok(true)`; `Ok(false)` when AWS answered `already`, the code that
/// says its effect already holds (a conditional put's item exists, what a delete removes is gone,
/// a name is taken); any other error as it is.
pub(crate) fn written<T>(result: Result<T, Error>, already: &str) -> Result<bool, Error> {
    match result {
        Ok(_) => Ok(true),
        Err(e) if is_code(&e, already) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Decodes AWS's percent-encoding (RFC 3986: IAM's policy documents; a form body once its `+`
/// are spaces). A `%` not followed by two hex digits is kept as it is.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 3 <= b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()))
            .flatten();
        match (b[i], hex) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (c, None) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// Three pages `a`, `b`, `c`: each names the next by its letter, the last by an empty marker
    /// (as Secrets Manager may). Records the markers it was asked for.
    fn three_pages(
        asked: &std::cell::RefCell<Vec<Option<String>>>,
    ) -> impl Fn(Option<String>) -> std::future::Ready<Result<(char, &'static str), Error>> {
        |marker| {
            asked.borrow_mut().push(marker.clone());
            let page = match marker.as_deref() {
                None => ('a', "b"),
                Some("b") => ('b', "c"),
                Some("c") => ('c', ""),
                Some(other) => return std::future::ready(Err(Error::Input(format!("no page {other}")))),
            };
            std::future::ready(Ok(page))
        }
    }

    #[tokio::test]
    async fn pages_are_followed_to_the_last_and_a_walk_stops_where_it_breaks() {
        let asked = std::cell::RefCell::new(Vec::new());
        let all = all_pages(three_pages(&asked), |p: &(char, &str)| vec![p.0], |p| Some(p.1)).await.expect("pages");
        assert_eq!(all, ['a', 'b', 'c']);
        assert_eq!(*asked.borrow(), [None, Some("b".to_owned()), Some("c".to_owned())]);

        asked.borrow_mut().clear();
        let found = walk_pages(
            three_pages(&asked),
            |p: &(char, &str)| Some(p.1),
            |p| {
                if p.0 == 'b' { ControlFlow::Break(p.0) } else { ControlFlow::Continue(()) }
            },
        )
        .await
        .expect("walk");
        assert_eq!(found, Some('b'));
        assert_eq!(asked.borrow().len(), 2, "the page after the one that had it is not read");
        let none = walk_pages(
            three_pages(&std::cell::RefCell::new(Vec::new())),
            |p: &(char, &str)| Some(p.1),
            |_| ControlFlow::<char>::Continue(()),
        )
        .await
        .expect("walk");
        assert_eq!(none, None);
    }

    #[test]
    fn the_built_in_roots_are_five_certificates() {
        let blocks: Vec<&str> = AMAZON_ROOTS.split("-----BEGIN CERTIFICATE-----").skip(1).collect();
        assert_eq!(blocks.len(), 5);
        for b in blocks {
            let body: String = b.split("-----END CERTIFICATE-----").next().unwrap_or("").split_whitespace().collect();
            let der = base64::engine::general_purpose::STANDARD.decode(body).expect("base64");
            assert_eq!(der[0], 0x30, "a DER SEQUENCE");
            assert!(der.len() > 400);
        }
    }
}
