//! One call rate for a whole process: [`Pace`] hands out start times at most `per_second` apart,
//! to every clone alike, so concurrent lanes share one limit instead of each having its own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// A shared schedule of call starts: at most `per_second` per second.
#[derive(Debug, Clone)]
pub struct Pace {
    interval: Duration,
    next: Arc<Mutex<Option<Instant>>>,
}

impl Pace {
    /// `per_second` of at least 1.
    pub fn new(per_second: u32) -> Self {
        Self { interval: Duration::from_secs(1) / per_second.max(1), next: Arc::new(Mutex::new(None)) }
    }

    /// Takes the next free start and waits until it.
    pub async fn wait(&self) {
        let at = self.take(Instant::now());
        tokio::time::sleep_until(at).await;
    }

    /// No call starts for `wait` from now (AWS asked the caller to wait): every clone's next
    /// start is after it.
    pub fn hold(&self, wait: Duration) {
        self.hold_from(Instant::now(), wait);
    }

    fn hold_from(&self, now: Instant, wait: Duration) {
        let mut next = self.next.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *next = Some(next.map_or(now + wait, |n| n.max(now + wait)));
    }

    /// The start a call made at `now` gets: `now`, or the next free one after the last.
    fn take(&self, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = next.map_or(now, |n| n.max(now));
        *next = Some(at + self.interval);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_are_spaced_across_clones_and_idle_time_is_not_saved_up() {
        let pace = Pace::new(20);
        let other = pace.clone();
        let t0 = Instant::now();
        let starts = [pace.take(t0), other.take(t0), pace.take(t0), other.take(t0)];
        let gaps: Vec<_> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(gaps, [Duration::from_millis(50); 3], "20 per second, shared");
        // After a quiet second, a call starts at once, and the next one 50 ms later: no burst.
        let later = t0 + Duration::from_secs(1);
        assert_eq!(pace.take(later), later);
        assert_eq!(other.take(later), later + Duration::from_millis(50));
    }

    #[test]
    fn a_hold_delays_every_clones_next_start_and_never_brings_one_forward() {
        let pace = Pace::new(20);
        let other = pace.clone();
        let t0 = Instant::now();
        pace.hold_from(t0, Duration::from_secs(3));
        assert_eq!(other.take(t0), t0 + Duration::from_secs(3));
        assert_eq!(pace.take(t0), t0 + Duration::from_secs(3) + Duration::from_millis(50));
        // A shorter hold than what is already scheduled changes nothing.
        pace.hold_from(t0, Duration::from_secs(1));
        assert_eq!(other.take(t0), t0 + Duration::from_secs(3) + Duration::from_millis(100));
    }
}
