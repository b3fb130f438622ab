//! Effects: the only modules that name AWS SDK types. Each wrapper turns SDK errors into
//! [`Error::Aws`] (keeping the AWS code and message) and retries IAM's transient answers within
//! the configured bounds; the SDK's own retry layer handles throttling and 5xx underneath.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

use crate::config::Config;
use crate::error::Error;
use crate::retry::RetryPolicy;

pub mod iam;
#[cfg(feature = "secrets")]
pub mod secrets;
pub mod sns;

/// The SDK configuration, from the standard sources (`AWS_REGION`, `AWS_PROFILE`,
/// `AWS_ENDPOINT_URL`, credentials chain), with the configured retry budget.
pub async fn load_sdk_config(cfg: &Config) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(cfg.retry.max_attempts))
        .load()
        .await
}

/// The clients, built once per process.
#[derive(Clone, Debug)]
pub struct Aws {
    pub iam: iam::Iam,
    pub sns: sns::Sns,
    #[cfg(feature = "secrets")]
    pub secrets: secrets::Secrets,
}

impl Aws {
    pub fn new(sdk: &SdkConfig, retry: RetryPolicy) -> Self {
        Self {
            iam: iam::Iam::new(aws_sdk_iam::Client::new(sdk), retry),
            sns: sns::Sns::new(aws_sdk_sns::Client::new(sdk)),
            #[cfg(feature = "secrets")]
            secrets: secrets::Secrets::new(aws_sdk_secretsmanager::Client::new(sdk)),
        }
    }
}

/// Converts an SDK error, keeping the AWS error code and message.
pub(crate) fn aws_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let (code, message) = code_and_message(&err);
    Error::Aws { operation, code, message }
}

/// `code: message` of an SDK error, for callers outside the steps (bootstrap).
pub fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let (code, message) = code_and_message(err);
    format!("{code}: {message}")
}

fn code_and_message<E, R>(err: &SdkError<E, R>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let code = match (err, err.code()) {
        (_, Some(c)) => c,
        (SdkError::TimeoutError(_), None) => "Timeout",
        (SdkError::DispatchFailure(_), None) => "Dispatch",
        _ => "Unknown",
    };
    let message = match err.message() {
        Some(m) => m.to_owned(),
        None => aws_sdk_iam::error::DisplayErrorContext(err).to_string(),
    };
    (code.to_owned(), message)
}

/// Whether an error carries this AWS code.
pub(crate) fn is_code(e: &Error, code: &str) -> bool {
    e.aws_code() == Some(code)
}

/// The account id in an ARN (`arn:partition:service:region:account:...`).
pub fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The region in an ARN.
pub fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|a| !a.is_empty())
}
