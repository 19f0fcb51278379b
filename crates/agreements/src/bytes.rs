//! A bounds-checked reader over bytes, shared by the binary forms this crate decodes
//! (the ledger's entries, the facts column): every read checks the length first, so
//! no input can make a decoder index past its end. Each decoder turns a `None` into
//! its own error, with the offset this reader is at.

/// Reads a byte slice front to back.
pub(crate) struct ByteCursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> ByteCursor<'a> {
    /// A reader at `pos` in `bytes`.
    pub(crate) fn at(bytes: &'a [u8], pos: usize) -> Self {
        ByteCursor { bytes, pos }
    }

    /// The offset of the next byte to read.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left to read.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// The next byte, without reading it.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The next `n` bytes, or `None` (and nothing read) if fewer are left.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())?;
        let taken = &self.bytes[self.pos..end];
        self.pos = end;
        Some(taken)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Some(array)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_within_bounds_and_refuses_past_them() {
        let mut cursor = ByteCursor::at(b"abcdef", 1);
        assert_eq!(cursor.take(2), Some(&b"bc"[..]));
        assert_eq!(cursor.array::<2>(), Some(*b"de"));
        assert_eq!(cursor.remaining(), 1);
        assert_eq!(cursor.take(2), None);
        assert_eq!(cursor.pos(), 5, "a refused read reads nothing");
        assert_eq!(cursor.take(usize::MAX), None);
        assert_eq!(cursor.take(1), Some(&b"f"[..]));
        assert_eq!(cursor.remaining(), 0);
    }
}
