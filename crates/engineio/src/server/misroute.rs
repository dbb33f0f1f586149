//! Requests for another node's sessions: a server with a node id counts
//! them and says so in its log (at most once every 10 s), because they mean
//! the load balancer in front of it does not route by session.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use engineio_proto::{NodeId, Sid};

/// The least time between two log lines about misrouted requests.
pub(crate) const LOG_EVERY: Duration = Duration::from_secs(10);

/// The count of misrouted requests, and when the last was logged.
#[derive(Debug, Default)]
pub(crate) struct Misrouting {
    count: AtomicU64,
    /// When the last line was logged, and the count then.
    logged: Mutex<Option<(Instant, u64)>>,
}

impl Misrouting {
    /// How many requests named a session of another node.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Called for every request answered "Session ID unknown" (HTTP, and
    /// WebTransport upgrades of unknown sessions): counts it,
    /// and logs it when due, if its sid names another node than `ours`.
    /// Returns whether it was such a request.
    pub(crate) fn check(&self, ours: Option<&NodeId>, sid: Sid, now: Instant) -> bool {
        let Some(ours) = ours else {
            return false;
        };
        let Some(theirs) = sid.node().filter(|node| *node != ours.as_str()) else {
            return false;
        };
        let total = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        let since = {
            let mut logged = self.logged.lock().unwrap_or_else(PoisonError::into_inner);
            match *logged {
                Some((at, _)) if now.saturating_duration_since(at) < LOG_EVERY => return true,
                Some((_, then)) => {
                    *logged = Some((now, total));
                    total - then
                }
                None => {
                    *logged = Some((now, total));
                    total
                }
            }
        };
        // The sid itself is a credential: only the node names are logged.
        tracing::warn!(
            node = ours.as_str(),
            session_node = theirs,
            misrouted_total = total,
            misrouted_since_last_line = since,
            "session of {theirs} arrived at {ours}: the load balancer is not routing by session \
             (answered 400 \"Session ID unknown\"; route on the sid's node prefix or a cookie, \
             see the README's \"Deployment behind a load balancer\")",
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(id: &str) -> Sid {
        Sid::custom(id).unwrap()
    }

    #[test]
    fn counts_only_sessions_of_other_nodes() {
        let misrouting = Misrouting::default();
        let n1 = NodeId::new("n1").unwrap();
        let now = Instant::now();
        assert!(misrouting.check(Some(&n1), sid("n2.AAAAAAAAAAAAAAAAAAAA"), now));
        // Our own expired sessions, sids without a node, or no node id here.
        assert!(!misrouting.check(Some(&n1), sid("n1.AAAAAAAAAAAAAAAAAAAA"), now));
        assert!(!misrouting.check(Some(&n1), sid("AAAAAAAAAAAAAAAAAAAA"), now));
        assert!(!misrouting.check(None, sid("n2.AAAAAAAAAAAAAAAAAAAA"), now));
        // "n10" is not "n1".
        assert!(misrouting.check(Some(&n1), sid("n10.AAAAAAAAAAAAAAAAAAAA"), now));
        assert_eq!(misrouting.count(), 2);
    }

    #[test]
    fn logs_at_most_once_per_period() {
        let misrouting = Misrouting::default();
        let n1 = NodeId::new("n1").unwrap();
        let start = Instant::now();
        let other = sid("n2.AAAAAAAAAAAAAAAAAAAA");
        misrouting.check(Some(&n1), other, start);
        let logged = |m: &Misrouting| *m.logged.lock().unwrap();
        assert_eq!(logged(&misrouting), Some((start, 1)));
        misrouting.check(Some(&n1), other, start + Duration::from_secs(9));
        assert_eq!(logged(&misrouting), Some((start, 1)), "not due yet");
        let later = start + LOG_EVERY;
        misrouting.check(Some(&n1), other, later);
        assert_eq!(logged(&misrouting), Some((later, 3)));
        assert_eq!(misrouting.count(), 3);
    }
}
