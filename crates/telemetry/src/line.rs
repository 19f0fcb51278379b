//! Line reading into a reused buffer with a length limit.

use std::io::{self, BufRead};

/// The longest line a reader accepts, in bytes. Longer lines are skipped (and reported
/// as a record error) without being held in memory, so a corrupt or hostile input cannot
/// make a reader allocate without bound.
pub const MAX_LINE_LEN: usize = 1 << 20;

/// What [`LineSource::read`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineRead {
    /// End of input; the buffer is empty.
    Eof,
    /// A line is in the buffer (without its `\n` / `\r\n`).
    Line,
    /// The line exceeded [`MAX_LINE_LEN`] and was skipped; the buffer is empty.
    TooLong,
}

/// A `BufRead` with a reused line buffer, a line counter and a byte counter.
///
/// A line that lies whole in the reader's buffer is handed out in place (consumed at
/// the next read), so the common case copies nothing; a line that straddles two
/// buffer fills is assembled in `buf`.
#[derive(Debug)]
pub(crate) struct LineSource<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes of the inner buffer to consume before the next read.
    pending: usize,
    /// `Some(end)`: the current line is `inner.fill_buf()[..end]`; `None`: it is `buf`.
    in_place: Option<usize>,
    /// 1-based number of the line in `buf` (0 before the first read).
    pub(crate) line_no: u64,
    /// Bytes consumed from the input so far.
    pub(crate) bytes: u64,
    limit: usize,
}

impl<R: BufRead> LineSource<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_LINE_LEN)
    }

    pub(crate) fn with_limit(inner: R, limit: usize) -> Self {
        LineSource {
            inner,
            buf: Vec::with_capacity(512),
            pending: 0,
            in_place: None,
            line_no: 0,
            bytes: 0,
            limit,
        }
    }

    /// The current line (after [`read`](Self::read) returned [`LineRead::Line`]).
    pub(crate) fn line(&mut self) -> &[u8] {
        match self.in_place {
            // `BufRead` hands out the same, unconsumed buffer again without reading.
            Some(end) => self
                .inner
                .fill_buf()
                .ok()
                .and_then(|b| b.get(..end))
                .unwrap_or_default(),
            None => &self.buf,
        }
    }

    /// Reads the next line.
    pub(crate) fn read(&mut self) -> io::Result<LineRead> {
        if self.pending > 0 {
            self.inner.consume(self.pending);
            self.pending = 0;
        }
        self.in_place = None;
        let avail = loop {
            match self.inner.fill_buf() {
                Ok(a) => break a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if let Some(i) = memchr::memchr(b'\n', avail) {
            if i <= self.limit {
                let end = if i > 0 && avail[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                self.pending = i + 1;
                self.bytes += (i + 1) as u64;
                self.line_no += 1;
                self.in_place = Some(end);
                return Ok(LineRead::Line);
            }
        }
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (&avail[..i], i + 1, true),
                None => (avail, avail.len(), false),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > self.limit {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.inner.consume(used);
            self.bytes += used as u64;
            if done {
                break;
            }
        }
        if !any {
            return Ok(LineRead::Eof);
        }
        self.line_no += 1;
        if too_long {
            return Ok(LineRead::TooLong);
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(LineRead::Line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_crlf_and_limit() {
        for cap in [2, 3, 64] {
            let input: &[u8] = b"ab\r\ncdefgh\nij\n\nk";
            let mut src = LineSource::with_limit(io::BufReader::with_capacity(cap, input), 4);
            assert_eq!(src.read().unwrap(), LineRead::Line);
            assert_eq!(src.line(), b"ab");
            assert_eq!(src.read().unwrap(), LineRead::TooLong);
            assert_eq!(src.line_no, 2);
            assert_eq!(src.read().unwrap(), LineRead::Line);
            assert_eq!(src.line(), b"ij");
            assert_eq!(src.read().unwrap(), LineRead::Line);
            assert_eq!(src.line(), b"");
            assert_eq!(src.read().unwrap(), LineRead::Line);
            assert_eq!(src.line(), b"k");
            assert_eq!(src.read().unwrap(), LineRead::Eof);
            assert_eq!(src.bytes, 16, "capacity {cap}");
        }
    }
}
