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
#[derive(Debug)]
pub(crate) struct LineSource<R> {
    inner: R,
    pub(crate) buf: Vec<u8>,
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
            line_no: 0,
            bytes: 0,
            limit,
        }
    }

    /// Reads the next line into `self.buf`.
    pub(crate) fn read(&mut self) -> io::Result<LineRead> {
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
        let input: &[u8] = b"ab\r\ncdefgh\nij";
        let mut src = LineSource::with_limit(io::BufReader::with_capacity(2, input), 4);
        assert_eq!(src.read().unwrap(), LineRead::Line);
        assert_eq!(src.buf, b"ab");
        assert_eq!(src.read().unwrap(), LineRead::TooLong);
        assert_eq!(src.line_no, 2);
        assert_eq!(src.read().unwrap(), LineRead::Line);
        assert_eq!(src.buf, b"ij");
        assert_eq!(src.read().unwrap(), LineRead::Eof);
        assert_eq!(src.bytes, 13);
    }
}
