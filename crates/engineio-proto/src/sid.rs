//! Session ids: 120 random bits from a CSPRNG seeded by the operating
//! system.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use thiserror::Error;

/// The number of characters in a session id.
pub const SID_LEN: usize = 20;

/// The number of random bytes behind a session id (120 bits).
const RANDOM_BYTES: usize = SID_LEN / 4 * 3;

/// A session id: 20 URL-safe base64 characters holding 120 random bits.
///
/// Ids are drawn from `rand`'s thread-local CSPRNG (ChaCha12, seeded from
/// the operating system's random source and reseeded from it regularly),
/// so they cannot be guessed, without a system call per id; they are
/// `Copy` and hash cheaply, which makes them good map keys.
///
/// # Examples
///
/// ```
/// use engineio_proto::Sid;
///
/// let sid = Sid::generate();
/// assert_eq!(sid.as_str().len(), 20);
/// assert_eq!(sid.as_str().parse::<Sid>().unwrap(), sid);
/// assert_ne!(Sid::generate(), sid);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid([u8; SID_LEN]);

impl Sid {
    /// Draws a new random session id.
    ///
    /// # Panics
    ///
    /// Panics if the operating system has no random source, which on the
    /// platforms tokio supports does not happen.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Sid;
    /// assert!(Sid::generate().as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    /// ```
    pub fn generate() -> Self {
        let mut random = [0u8; RANDOM_BYTES];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut random);
        let mut id = [0u8; SID_LEN];
        let written = URL_SAFE_NO_PAD
            .encode_slice(random, &mut id)
            .unwrap_or_default();
        debug_assert_eq!(written, SID_LEN);
        Self(id)
    }

    /// The id as a string slice.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Sid;
    /// let sid: Sid = "AAAAAAAAAAAAAAAAAAAA".parse().unwrap();
    /// assert_eq!(sid.as_str(), "AAAAAAAAAAAAAAAAAAAA");
    /// ```
    pub fn as_str(&self) -> &str {
        // The bytes are always base64url characters, hence ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.as_str())
    }
}

impl AsRef<str> for Sid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// The error for a string that is not one of our session ids.
///
/// # Examples
///
/// ```
/// # use engineio_proto::Sid;
/// assert!("too-short".parse::<Sid>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid session id: expected {SID_LEN} URL-safe base64 characters")]
pub struct InvalidSid;

impl FromStr for Sid {
    type Err = InvalidSid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes: [u8; SID_LEN] = s.as_bytes().try_into().map_err(|_| InvalidSid)?;
        if bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            Ok(Self(bytes))
        } else {
            Err(InvalidSid)
        }
    }
}
