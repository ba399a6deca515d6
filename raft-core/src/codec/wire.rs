//! The two cursors every layout is written and read with: [`Writer`] appends little-endian
//! fields, [`Reader`] takes them back with a bounds check on every read, plus Go's uvarint.
//! An encoder and its decoder name the same fields in the same order, so a layout reads the
//! same in both directions.

use super::DecodeError;
use crate::types::NodeId;

/// Maximum length of a uvarint encoding a `u64`.
const MAX_UVARINT_LEN: usize = 10;

/// Appends fields to a buffer, little-endian, the mirror of [`Reader`]. Every method returns
/// the writer, so a fixed layout is one chain: `w.u64(m.term).node(m.peer).bool(m.success)`.
pub(crate) struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    #[inline]
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        Writer { out }
    }

    /// Reserves room for `additional` more bytes (the layout's length, when it is known).
    #[inline]
    pub(crate) fn reserve(&mut self, additional: usize) -> &mut Self {
        self.out.reserve(additional);
        self
    }

    #[inline]
    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.out.push(v);
        self
    }

    /// A boolean byte: 0 or 1.
    #[inline]
    pub(crate) fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(u8::from(v))
    }

    #[inline]
    pub(crate) fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    #[inline]
    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    #[inline]
    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    /// A node id: its 8 NRG bytes.
    #[inline]
    pub(crate) fn node(&mut self, id: NodeId) -> &mut Self {
        self.bytes(&id.to_bytes())
    }

    /// Bytes as they are (a payload, or a part encoded elsewhere).
    #[inline]
    pub(crate) fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.out.extend_from_slice(v);
        self
    }

    /// A Go uvarint ([`put_uvarint`]).
    #[inline]
    pub(crate) fn uvarint(&mut self, v: u64) -> &mut Self {
        put_uvarint(self.out, v);
        self
    }
}

/// Cursor over an input; every read is bounds-checked and reports `what` on failure.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pub(crate) pos: usize,
    /// What is being read, for errors; decoders change it as they move through a layout.
    pub(crate) what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::TooShort {
                what: self.what,
                offset: self.pos,
                need: n,
                got: self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// A boolean byte: 0 or 1; any other value is a [`DecodeError::BadFlag`] naming `what`.
    pub(crate) fn bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        let offset = self.pos;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(DecodeError::BadFlag {
                what,
                offset,
                value,
            }),
        }
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(crate) fn node(&mut self) -> Result<NodeId, DecodeError> {
        Ok(NodeId::from_bytes(self.array()?))
    }

    /// A uvarint ([`read_uvarint`]); errors report the offset where it starts.
    pub(crate) fn uvarint(&mut self) -> Result<u64, DecodeError> {
        let (v, n) = read_uvarint(&self.buf[self.pos..], self.pos)?;
        self.pos += n;
        Ok(v)
    }

    /// Nothing may follow a complete layout.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.remaining() != 0 {
            return Err(DecodeError::TrailingBytes {
                what: self.what,
                offset: self.pos,
                count: self.remaining(),
            });
        }
        Ok(())
    }
}

/// A fixed-size layout must be exactly `expected` bytes long.
pub(crate) fn check_exact_len(
    what: &'static str,
    buf: &[u8],
    expected: usize,
) -> Result<(), DecodeError> {
    if buf.len() != expected {
        return Err(DecodeError::BadLength {
            what,
            expected,
            got: buf.len(),
        });
    }
    Ok(())
}

/// Appends `v` as a Go `binary.PutUvarint` uvarint (7 bits per byte, low group first).
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The number of bytes [`put_uvarint`] writes for `v`.
pub(crate) fn uvarint_len(mut v: u64) -> usize {
    let mut len = 1;
    while v >= 0x80 {
        len += 1;
        v >>= 7;
    }
    len
}

/// Reads a uvarint at the start of `buf`; returns the value and the number of bytes used.
///
/// Stricter than Go's `binary.Uvarint` in one respect: a non-minimal encoding (a final group
/// of zero after the first byte, e.g. `80 00`) is rejected. No encoder produces one.
/// `offset` is only used to report errors.
fn read_uvarint(buf: &[u8], offset: usize) -> Result<(u64, usize), DecodeError> {
    let mut value: u64 = 0;
    for (i, &b) in buf.iter().take(MAX_UVARINT_LEN).enumerate() {
        // The 10th byte holds bit 63 only; anything more overflows (or makes it too long).
        if i == MAX_UVARINT_LEN - 1 && b > 1 {
            return Err(DecodeError::BadTrailer {
                offset,
                reason: "uvarint overflows u64",
            });
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if b == 0 && i > 0 {
                return Err(DecodeError::BadTrailer {
                    offset,
                    reason: "uvarint is not minimally encoded",
                });
            }
            return Ok((value, i + 1));
        }
    }
    // Every byte had its continuation bit set and the input ended (10th byte returns above).
    Err(DecodeError::BadTrailer {
        offset,
        reason: "uvarint truncated (continuation bit set on the last byte)",
    })
}
