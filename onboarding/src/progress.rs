//! Progress of a long run on stderr: after two seconds, a line with counts and rate, rewritten in
//! place on a terminal, or printed every ten seconds when stderr is not one (logs, CI).

use std::cell::Cell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    what: &'static str,
    started: Instant,
    shown: Cell<Option<Instant>>,
    terminal: bool,
}

impl Progress {
    pub fn new(what: &'static str) -> Self {
        Self { what, started: Instant::now(), shown: Cell::new(None), terminal: std::io::stderr().is_terminal() }
    }

    /// `done` of `total` finished.
    pub fn tick(&self, done: usize, total: usize) {
        let elapsed = self.started.elapsed();
        let every = if self.terminal { Duration::from_millis(200) } else { Duration::from_secs(10) };
        let due = match self.shown.get() {
            None => elapsed >= Duration::from_secs(2),
            Some(at) => at.elapsed() >= every,
        };
        if !due && done != total {
            return;
        }
        if self.shown.get().is_none() && done == total && elapsed < Duration::from_secs(2) {
            return;
        }
        self.shown.set(Some(Instant::now()));
        let line = line(self.what, done, total, elapsed);
        let mut err = std::io::stderr();
        let _ = if self.terminal { write!(err, "\r{line}\x1b[K") } else { writeln!(err, "{line}") };
    }

    /// Ends the line on a terminal (when one was shown).
    pub fn finish(&self) {
        if self.terminal && self.shown.get().is_some() {
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// `120/1000 events, 24.0/s, about 37 s left`.
pub fn line(what: &str, done: usize, total: usize, elapsed: Duration) -> String {
    let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
    let left = if done < total && rate > 0.0 {
        format!(", about {:.0} s left", (total - done) as f64 / rate)
    } else {
        String::new()
    };
    format!("{done}/{total} {what}, {rate:.1}/s{left}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_line_counts_rates_and_estimates() {
        let l = super::line("events", 120, 1000, std::time::Duration::from_secs(5));
        assert_eq!(l, "120/1000 events, 24.0/s, about 37 s left");
        assert_eq!(super::line("events", 3, 3, std::time::Duration::from_secs(1)), "3/3 events, 3.0/s");
    }
}
