//! Bounded retries with exponential backoff and jitter, for the IAM answers that mean
//! "not yet" (eventual consistency) on top of the SDK's own retries for throttling and 5xx.

use std::future::Future;
use std::time::Duration;

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// Delay before attempt `attempt + 1` (attempt counts from 1): exponential, capped, with
    /// "equal jitter" (half fixed, half random) so concurrent runs spread out.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        let mut b = [0u8; 2];
        let jitter = match getrandom::fill(&mut b) {
            Ok(()) => f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX),
            Err(_) => 0.5,
        };
        half + half.mul_f64(jitter)
    }
}

/// Calls `op` until it succeeds, fails with an error `retryable` rejects, or `max_attempts`
/// calls were made. Each retry is logged with the AWS code.
pub async fn retry<T, F, Fut, R>(policy: RetryPolicy, what: &str, retryable: R, mut op: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
    R: Fn(&Error) -> bool,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < policy.max_attempts && retryable(&e) => {
                let wait = policy.delay(attempt);
                tracing::warn!(
                    operation = what,
                    attempt,
                    code = e.aws_code().unwrap_or("-"),
                    wait_ms = wait.as_millis() as u64,
                    "transient error, retrying"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The default predicate: throttling, server faults, IAM's temporary states.
pub fn transient(e: &Error) -> bool {
    e.is_transient()
}

/// Transient, or `NoSuchEntity` (an entity created moments ago, not yet visible everywhere).
pub fn transient_or_not_yet_visible(e: &Error) -> bool {
    e.is_transient() || e.aws_code() == Some("NoSuchEntity")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn policy(n: u32) -> RetryPolicy {
        RetryPolicy { max_attempts: n, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(4) }
    }

    fn aws(code: &str) -> Error {
        Error::Aws { operation: "Op", code: code.into(), message: "m".into(), status: None, request_id: None }
    }

    #[tokio::test]
    async fn retries_transient_errors_then_succeeds() {
        let calls = Cell::new(0);
        let r = retry(policy(5), "op", transient, || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { if n < 3 { Err(aws("EntityTemporarilyUnmodifiable")) } else { Ok(n) } }
        })
        .await;
        assert_eq!(r.expect("third call succeeds"), 3);
        assert_eq!(calls.get(), 3);
    }

    /// Every call fails with `code`: the error the retry gave back and how many calls it made.
    async fn always_failing_with(code: &'static str, max_attempts: u32) -> (Error, u32) {
        let calls = Cell::new(0);
        let r: Result<(), _> = retry(policy(max_attempts), "op", transient, || {
            calls.set(calls.get() + 1);
            async { Err(aws(code)) }
        })
        .await;
        (r.expect_err("always fails"), calls.get())
    }

    #[tokio::test]
    async fn stops_after_max_attempts_and_keeps_the_error() {
        let (e, calls) = always_failing_with("Throttling", 4).await;
        assert_eq!((e.aws_code(), calls), (Some("Throttling"), 4));
    }

    #[tokio::test]
    async fn fails_fast_on_other_errors() {
        let (e, calls) = always_failing_with("AccessDenied", 5).await;
        assert_eq!((e.aws_code(), calls), (Some("AccessDenied"), 1));
    }

    #[test]
    fn delays_grow_and_are_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for a in 1..12 {
            let d = p.delay(a);
            assert!(d <= Duration::from_millis(1000), "{d:?}");
            let floor = (Duration::from_millis(100) * (1 << (a - 1).min(16))).min(Duration::from_millis(1000)) / 2;
            assert!(d >= floor, "{a}: {d:?} < {floor:?}");
        }
    }
}
