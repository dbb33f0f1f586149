//! Reconnection delays: exponential backoff with jitter.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use super::config::Reconnection;

/// The delay before attempt `attempt` (from 1), for `random` in `0.0..=1.0`.
pub(crate) fn delay(policy: &Reconnection, attempt: u32, random: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(31);
    let base = policy
        .initial_delay
        .saturating_mul(1u32 << exponent)
        .min(policy.max_delay);
    let random = if random.is_nan() {
        0.5
    } else {
        random.clamp(0.0, 1.0)
    };
    let factor = 1.0 - policy.jitter + 2.0 * policy.jitter * random;
    base.mul_f64(factor.max(0.0)).min(policy.max_delay)
}

/// A random number in `0.0..=1.0`, from the standard library's randomly
/// seeded hasher (good enough for jitter, no extra dependency).
pub(crate) fn random_unit() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x9e37_79b9_7f4a_7c15);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
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
        let delays: Vec<u128> = (1..=6).map(|n| delay(&p, n, 0.3).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        assert_eq!(delay(&policy(0.0), u32::MAX, 0.0), Duration::from_secs(1));
        assert_eq!(delay(&policy(0.0), 0, 0.0), Duration::from_millis(100));
    }

    #[test]
    fn jitter_spreads_around_the_base_and_stays_under_the_maximum() {
        let p = policy(0.5);
        assert_eq!(delay(&p, 2, 0.0), Duration::from_millis(100));
        assert_eq!(delay(&p, 2, 0.5), Duration::from_millis(200));
        assert_eq!(delay(&p, 2, 1.0), Duration::from_millis(300));
        assert_eq!(delay(&p, 5, 1.0), Duration::from_secs(1));
        assert_eq!(delay(&p, 2, f64::NAN), Duration::from_millis(200));
    }

    #[test]
    fn jitter_is_clamped() {
        let p = policy(7.0);
        assert_eq!(delay(&p, 1, 0.0), Duration::ZERO);
        assert_eq!(delay(&p, 1, 1.0), Duration::from_millis(200));
    }

    #[test]
    fn random_unit_is_in_range_and_varies() {
        let samples: Vec<f64> = (0..32).map(|_| random_unit()).collect();
        assert!(samples.iter().all(|r| (0.0..=1.0).contains(r)));
        assert!(samples.windows(2).any(|w| w[0] != w[1]));
    }
}
