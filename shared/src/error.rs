//! Errors of the domain and the steps.

use std::fmt;

/// Bad input: names the field (a JSON path such as `detail.startDate`) and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Why a step failed. Expected outcomes ("already done") are values, never errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HR event is not acceptable; retrying it cannot help.
    #[error("invalid event: {0}")]
    Invalid(#[from] ValidationError),

    /// A step was handed a state without the output of an earlier step.
    #[error("invalid step input: {0}")]
    Input(String),

    /// An AWS call failed. Keeps the AWS error code and message, the HTTP status and the
    /// request id (what AWS support asks for), on one line.
    #[error("{operation} failed: {code}: {message}{}", context(*status, request_id.as_deref()))]
    Aws { operation: &'static str, code: String, message: String, status: Option<u16>, request_id: Option<String> },

    /// Something the configuration names does not exist in the account (e.g. a group).
    #[error("{kind} `{name}` does not exist in the account; {hint}")]
    Missing { kind: &'static str, name: String, hint: &'static str },

    /// The state in the account forbids the step (e.g. no free user name is left).
    #[error("{0}")]
    Conflict(String),

    /// A step's input names a user, ARN or secret that is not the event's employee's as this
    /// system made it (a forged or stale state): refused before any write.
    #[error("untrusted step input: {0}")]
    Untrusted(String),

    /// Audit records of changes already made could not be published (each is in the log).
    #[error("{count} audit record(s) could not be published after the changes were made: {cause}")]
    AuditUndelivered { count: usize, cause: String },

    /// The operating system's random source failed.
    #[error("random source failed: {0}")]
    Random(String),
}

/// ` (HTTP 500, request id abc)`, or what of it is known.
fn context(status: Option<u16>, request_id: Option<&str>) -> String {
    match (status, request_id) {
        (Some(s), Some(id)) => format!(" (HTTP {s}, request id {id})"),
        (Some(s), None) => format!(" (HTTP {s})"),
        (None, Some(id)) => format!(" (request id {id})"),
        (None, None) => String::new(),
    }
}

/// The `errorType` of a failure worth retrying; the only one a state machine retries.
pub const TRANSIENT_ERROR_TYPE: &str = "Onboarding.Transient";

/// AWS error codes that mean "try again shortly": throttling, server faults and IAM's
/// eventual consistency (a just-created or just-deleted entity, a concurrent change).
pub const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceFailure",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalServiceError",
    // Identity Store and sso-admin: a 500 AWS says to retry (Identity Store names when).
    "InternalServerException",
    "EntityTemporarilyUnmodifiable",
    "ConcurrentModification",
    "ConcurrentModificationException",
    "Dispatch",
    "Timeout",
];

impl Error {
    /// The AWS error code, if this is an AWS error.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => Some(code.as_str()),
            _ => None,
        }
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        self.aws_code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
    }

    /// A stable name for the kind of failure: the Lambda `errorType`, which a state machine's
    /// `Retry`/`Catch` match on. `Onboarding.Transient` is the only one worth retrying.
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "Onboarding.InvalidEvent",
            Error::Input(_) => "Onboarding.InvalidInput",
            Error::Aws { .. } if self.is_transient() => TRANSIENT_ERROR_TYPE,
            Error::Aws { .. } => "Onboarding.AwsError",
            Error::Missing { .. } => "Onboarding.MissingResource",
            Error::Conflict(_) => "Onboarding.Conflict",
            Error::Untrusted(_) => "Onboarding.UntrustedInput",
            Error::AuditUndelivered { .. } => "Onboarding.AuditUndelivered",
            Error::Random(_) => TRANSIENT_ERROR_TYPE,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
