//! The caller's clock: Python passes time in as seconds of any monotonic
//! clock (`time.monotonic()`, or a fake clock in tests), and the core's
//! state machines work with `Instant`s. A `Clock` maps one to the other,
//! anchored when a state machine is made.

use std::time::{Duration, Instant};

/// Seconds on the caller's clock, anchored to an `Instant`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// The instant that `base_seconds` stands for.
    base: Instant,
    base_seconds: f64,
}

impl Clock {
    /// A clock on which `now` seconds is this instant.
    pub(crate) fn new(now: f64) -> Self {
        Self {
            base: Instant::now(),
            base_seconds: now,
        }
    }

    /// The instant of `now` seconds on the caller's clock.
    pub(crate) fn at(&self, now: f64) -> Instant {
        let offset = now - self.base_seconds;
        if offset >= 0.0 {
            self.base + Duration::from_secs_f64(offset)
        } else {
            self.base
                .checked_sub(Duration::from_secs_f64(-offset))
                .unwrap_or(self.base)
        }
    }

    /// Seconds on the caller's clock for an instant.
    pub(crate) fn seconds(&self, instant: Instant) -> f64 {
        match instant.checked_duration_since(self.base) {
            Some(after) => self.base_seconds + after.as_secs_f64(),
            None => self.base_seconds - self.base.duration_since(instant).as_secs_f64(),
        }
    }

    /// The instant the clock is anchored at.
    pub(crate) fn base(&self) -> Instant {
        self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_instants_map_both_ways() {
        let clock = Clock::new(100.0);
        let later = clock.at(102.5);
        assert_eq!(later - clock.base(), Duration::from_millis(2500));
        assert!((clock.seconds(later) - 102.5).abs() < 1e-9);
        let earlier = clock.at(99.0);
        assert!((clock.seconds(earlier) - 99.0).abs() < 1e-6);
    }
}
