//! The length prefix of v3 payload entries, shared by both payload formats.
//!
//! A text payload writes `12:` (ASCII digits, then a colon); a binary
//! payload writes the bytes `1 2 0xFF` (digit values, then `0xFF`).

use super::error::Eio3Error;

/// How one payload format writes its lengths.
#[derive(Debug, Clone, Copy)]
pub(super) struct LengthSyntax {
    /// The byte that ends the digits.
    terminator: u8,
    /// The byte of the digit `0`: `b'0'` for ASCII, `0` for raw values.
    zero: u8,
}

impl LengthSyntax {
    /// `12:` in a text payload.
    pub(super) const TEXT: Self = Self {
        terminator: b':',
        zero: b'0',
    };
    /// `1 2 0xFF` in a binary payload.
    pub(super) const BINARY: Self = Self {
        terminator: 0xFF,
        zero: 0,
    };

    /// Appends `length` and the terminator to `out`.
    pub(super) fn write(self, length: usize, out: &mut Vec<u8>) {
        out.extend(length.to_string().bytes().map(|b| b - b'0' + self.zero));
        out.push(self.terminator);
    }

    /// Reads the length that starts at `start` (just after the marker, if
    /// any) of the entry at `entry`; returns it and where the data starts.
    ///
    /// Stops at the first non-digit, so it reads each byte once; fails
    /// before the number overflows.
    pub(super) fn read(
        self,
        input: &[u8],
        entry: usize,
        start: usize,
    ) -> Result<(usize, usize), Eio3Error> {
        let mut length: usize = 0;
        let mut pos = start;
        loop {
            let &byte = input
                .get(pos)
                .ok_or(Eio3Error::UnterminatedLength { offset: entry })?;
            if byte == self.terminator {
                break;
            }
            let digit = byte
                .checked_sub(self.zero)
                .filter(|digit| *digit <= 9)
                .ok_or(Eio3Error::InvalidLengthDigit {
                    offset: pos,
                    found: byte,
                })?;
            length = length
                .checked_mul(10)
                .and_then(|length| length.checked_add(usize::from(digit)))
                .ok_or(Eio3Error::LengthOverflow { offset: entry })?;
            pos += 1;
        }
        if pos == start {
            return Err(Eio3Error::MissingLength { offset: entry });
        }
        Ok((length, pos + 1))
    }
}
