//! Whether and when a client reconnects: exponential backoff with jitter.

use std::time::Duration;

use crate::reason::DisconnectReason;

/// Automatic reconnection: how many attempts, and the delays between them
/// (exponential backoff from `initial_delay`, capped at `max_delay`, spread
/// by `jitter`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use engineio_proto::DisconnectReason;
/// use engineio_proto::client::Reconnection;
///
/// let policy = Reconnection::default()
///     .max_attempts(Some(3))
///     .initial_delay(Duration::from_millis(100))
///     .jitter(0.0);
/// assert_eq!(policy.next_attempt(DisconnectReason::PingTimeout, 1, 0.5), Some(Duration::from_millis(100)));
/// assert_eq!(policy.next_attempt(DisconnectReason::PingTimeout, 2, 0.5), Some(Duration::from_millis(200)));
/// assert_eq!(policy.next_attempt(DisconnectReason::PingTimeout, 4, 0.5), None); // three attempts made
/// assert_eq!(policy.next_attempt(DisconnectReason::ServerDisconnect, 1, 0.5), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Reconnection {
    /// The most attempts before giving up; `None` for no limit.
    pub max_attempts: Option<u32>,
    /// The delay before the first attempt.
    pub initial_delay: Duration,
    /// The longest delay between attempts.
    pub max_delay: Duration,
    /// How much each delay is randomised, from 0.0 (not at all) to 1.0
    /// (anywhere from nothing to twice the delay).
    pub jitter: f64,
}

impl Default for Reconnection {
    /// The Socket.IO JS client's defaults: unlimited attempts, 1 s doubling up to
    /// 5 s, jitter 0.5.
    fn default() -> Self {
        Self {
            max_attempts: None,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
            jitter: 0.5,
        }
    }
}

impl Reconnection {
    /// The most attempts before giving up (`None`: no limit).
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// The delay before the first attempt.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// The longest delay between attempts.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// How much each delay is randomised (clamped to 0.0..=1.0 when used).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Whether to make attempt number `attempt` (from 1) after a connection
    /// ended for `reason`, and after what delay; `random` is a number in
    /// `0.0..=1.0` for the jitter. Only a broken transport or a silent
    /// server is worth reconnecting to: never a close either side chose.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio_proto::DisconnectReason;
    /// use engineio_proto::client::Reconnection;
    ///
    /// let policy = Reconnection::default();
    /// assert!(policy.next_attempt(DisconnectReason::TransportError, 1, 0.0).is_some());
    /// assert!(policy.next_attempt(DisconnectReason::ClientDisconnect, 1, 0.0).is_none());
    /// ```
    pub fn next_attempt(
        &self,
        reason: DisconnectReason,
        attempt: u32,
        random: f64,
    ) -> Option<Duration> {
        if !reason.is_recoverable() || self.max_attempts.is_some_and(|max| attempt > max) {
            return None;
        }
        Some(self.delay_for(attempt, random))
    }

    /// The delay before attempt `attempt` (from 1), for `random` in
    /// `0.0..=1.0`: `initial_delay` doubled per attempt, capped at
    /// `max_delay`, times a jitter factor between `1 - jitter` and
    /// `1 + jitter`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use engineio_proto::client::Reconnection;
    ///
    /// let policy = Reconnection::default().jitter(0.0);
    /// assert_eq!(policy.delay_for(1, 0.5), Duration::from_secs(1));
    /// assert_eq!(policy.delay_for(10, 0.5), Duration::from_secs(5));
    /// ```
    pub fn delay_for(&self, attempt: u32, random: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(31);
        let base = self
            .initial_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let random = if random.is_nan() {
            0.5
        } else {
            random.clamp(0.0, 1.0)
        };
        let jitter = if self.jitter.is_nan() {
            0.0
        } else {
            self.jitter.clamp(0.0, 1.0)
        };
        let factor = 1.0 - jitter + 2.0 * jitter * random;
        base.mul_f64(factor.max(0.0)).min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(jitter: f64) -> Reconnection {
        Reconnection::default()
            .initial_delay(Duration::from_millis(100))
            .max_delay(Duration::from_secs(1))
            .jitter(jitter)
    }

    #[test]
    fn doubles_until_the_maximum() {
        let p = policy(0.0);
        let delays: Vec<u128> = (1..=6).map(|n| p.delay_for(n, 0.3).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        assert_eq!(policy(0.0).delay_for(u32::MAX, 0.0), Duration::from_secs(1));
        assert_eq!(policy(0.0).delay_for(0, 0.0), Duration::from_millis(100));
    }

    #[test]
    fn jitter_spreads_around_the_base_and_stays_under_the_maximum() {
        let p = policy(0.5);
        assert_eq!(p.delay_for(2, 0.0), Duration::from_millis(100));
        assert_eq!(p.delay_for(2, 0.5), Duration::from_millis(200));
        assert_eq!(p.delay_for(2, 1.0), Duration::from_millis(300));
        assert_eq!(p.delay_for(5, 1.0), Duration::from_secs(1));
        assert_eq!(p.delay_for(2, f64::NAN), Duration::from_millis(200));
    }

    #[test]
    fn jitter_is_clamped() {
        let p = policy(7.0);
        assert_eq!(p.delay_for(1, 0.0), Duration::ZERO);
        assert_eq!(p.delay_for(1, 1.0), Duration::from_millis(200));
    }

    #[test]
    fn only_a_broken_connection_is_retried_and_attempts_run_out() {
        let p = policy(0.0).max_attempts(Some(2));
        for reason in [
            DisconnectReason::TransportError,
            DisconnectReason::PingTimeout,
        ] {
            assert!(p.next_attempt(reason, 1, 0.0).is_some());
            assert!(p.next_attempt(reason, 2, 0.0).is_some());
            assert!(p.next_attempt(reason, 3, 0.0).is_none());
        }
        for reason in [
            DisconnectReason::ServerDisconnect,
            DisconnectReason::ClientDisconnect,
        ] {
            assert!(p.next_attempt(reason, 1, 0.0).is_none());
        }
    }
}
