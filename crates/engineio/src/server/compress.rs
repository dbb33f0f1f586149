//! gzip and deflate for long-polling responses.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};

/// A content coding the server can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Gzip,
    Deflate,
}

impl Encoding {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Deflate => "deflate",
        }
    }
}

/// Picks gzip or deflate from an `Accept-Encoding` value, honouring
/// q-values (`q=0` refuses a coding); gzip wins ties. python-engineio takes
/// the first listed and ignores q-values.
pub(crate) fn negotiate(accept_encoding: &str) -> Option<Encoding> {
    let mut best: Option<(Encoding, f32)> = None;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let encoding = match name.as_str() {
            "gzip" | "x-gzip" => Encoding::Gzip,
            "deflate" => Encoding::Deflate,
            _ => continue,
        };
        if quality <= 0.0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((current, q)) => {
                quality > q
                    || (quality == q && encoding == Encoding::Gzip && current != Encoding::Gzip)
            }
        };
        if better {
            best = Some((encoding, quality));
        }
    }
    best.map(|(encoding, _)| encoding)
}

/// Compresses a body. "deflate" is the zlib format, as HTTP defines it.
pub(crate) fn compress(encoding: Encoding, body: &[u8]) -> std::io::Result<Vec<u8>> {
    match encoding {
        Encoding::Gzip => {
            let mut encoder =
                GzEncoder::new(Vec::with_capacity(body.len() / 2), Compression::default());
            encoder.write_all(body)?;
            encoder.finish()
        }
        Encoding::Deflate => {
            let mut encoder =
                ZlibEncoder::new(Vec::with_capacity(body.len() / 2), Compression::default());
            encoder.write_all(body)?;
            encoder.finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_values_are_honoured() {
        assert_eq!(negotiate("gzip, deflate"), Some(Encoding::Gzip));
        assert_eq!(negotiate("deflate, gzip"), Some(Encoding::Gzip));
        assert_eq!(negotiate("br, deflate;q=0.5, gzip"), Some(Encoding::Gzip));
        assert_eq!(
            negotiate("gzip;q=0.2, deflate;q=0.8"),
            Some(Encoding::Deflate)
        );
        assert_eq!(negotiate("gzip;q=0, deflate;q=0"), None);
        assert_eq!(negotiate("br, identity"), None);
        assert_eq!(negotiate(""), None);
    }

    #[test]
    fn compressed_bodies_round_trip() {
        use std::io::Read as _;
        let body = b"4hello world ".repeat(200);
        let gz = compress(Encoding::Gzip, &body).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let z = compress(Encoding::Deflate, &body).unwrap();
        out.clear();
        flate2::read::ZlibDecoder::new(&z[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
    }
}
