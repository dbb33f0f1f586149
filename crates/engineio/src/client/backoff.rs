//! The randomness of reconnection delays (the delays themselves are the
//! core's: `engineio_proto::client::Reconnection`).

use std::hash::{BuildHasher, Hasher};

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

    #[test]
    fn random_unit_is_in_range_and_varies() {
        let samples: Vec<f64> = (0..32).map(|_| random_unit()).collect();
        assert!(samples.iter().all(|r| (0.0..=1.0).contains(r)));
        assert!(samples.windows(2).any(|w| w[0] != w[1]));
    }
}
