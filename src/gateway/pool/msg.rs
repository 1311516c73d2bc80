//! Messages after startup: `tag`, `int32 length` (itself included), body. The pooler reads
//! whole messages from both sides (to rename statements and to see transaction boundaries),
//! each bounded, into a buffer that shrinks back once a big message has passed.

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Longest message a pooled client may send (a Bind with big parameters, a CopyData row).
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024 * 1024;
/// Longest message accepted from a tenant's PostgreSQL (a DataRow with big values).
pub const MAX_SERVER_MESSAGE: usize = 512 * 1024 * 1024;
/// Read buffer kept between messages: what an idle client costs.
const IDLE_BUFFER: usize = 2 * 1024;

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Type byte.
    pub tag: u8,
    /// Body, without tag and length.
    pub body: Bytes,
}

impl Message {
    /// The message as sent on the wire.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.tag);
        out.extend(((self.body.len() + 4) as u32).to_be_bytes());
        out.extend_from_slice(&self.body);
    }
}

/// Encodes a message with `tag` and `body`.
pub fn encode(tag: u8, body: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    out.extend(((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
}

/// Why reading a message failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The stream failed or ended inside a message.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A length below 4 or above the bound.
    #[error("invalid message length {0}")]
    Length(usize),
}

/// Reads whole messages from one side.
pub struct Reader {
    buf: BytesMut,
    max: usize,
}

impl Reader {
    /// A reader that refuses messages longer than `max` bytes.
    pub fn new(max: usize) -> Self {
        Self { buf: BytesMut::new(), max }
    }

    /// Changes the bound on message lengths (small during authentication).
    pub fn set_max(&mut self, max: usize) {
        self.max = max;
    }

    /// The next complete message already buffered, if any (no I/O).
    pub fn buffered(&mut self) -> Result<Option<Message>, ReadError> {
        if self.buf.len() < 5 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]) as usize;
        if len < 4 || len > self.max {
            return Err(ReadError::Length(len));
        }
        if self.buf.len() < 1 + len {
            self.buf.reserve(1 + len - self.buf.len());
            return Ok(None);
        }
        let tag = self.buf[0];
        self.buf.advance(5);
        let body = self.buf.split_to(len - 4).freeze();
        if self.buf.is_empty() && self.buf.capacity() > 64 * 1024 {
            // A big message has passed: do not keep its buffer for an idle session.
            self.buf = BytesMut::new();
        }
        Ok(Some(Message { tag, body }))
    }

    /// Reads more bytes from `r` into the buffer; `Ok(false)` at end of stream.
    pub async fn fill<R: AsyncRead + Unpin>(&mut self, r: &mut R) -> Result<bool, ReadError> {
        if self.buf.capacity() - self.buf.len() < 512 {
            self.buf.reserve(IDLE_BUFFER);
        }
        Ok(r.read_buf(&mut self.buf).await? > 0)
    }

    /// Whether bytes of an incomplete message are buffered.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// The next message, reading as needed; `Ok(None)` at end of stream between messages.
    pub async fn next<R: AsyncRead + Unpin>(&mut self, r: &mut R) -> Result<Option<Message>, ReadError> {
        loop {
            if let Some(m) = self.buffered()? {
                return Ok(Some(m));
            }
            if !self.fill(r).await? {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into())
                };
            }
        }
    }
}

/// A cursor over a message body, for the few fields the pooler looks at. Every read is checked.
pub struct Fields<'a> {
    data: &'a [u8],
}

impl<'a> Fields<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// A NUL-terminated string.
    pub fn cstr(&mut self) -> Option<&'a [u8]> {
        let end = self.data.iter().position(|&b| b == 0)?;
        let (s, rest) = self.data.split_at(end);
        self.data = &rest[1..];
        Some(s)
    }

    /// One byte.
    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    /// A big-endian int32.
    pub fn i32(&mut self) -> Option<i32> {
        let (b, rest) = self.data.split_first_chunk::<4>()?;
        self.data = rest;
        Some(i32::from_be_bytes(*b))
    }

    /// What is left.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }
}

/// Body of a message that starts with a NUL-terminated name followed by `rest`.
pub fn with_name(name: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(name.len() + 1 + rest.len());
    body.extend_from_slice(name);
    body.push(0);
    body.extend_from_slice(rest);
    body
}

/// ReadyForQuery with transaction status `status` (`I`, `T` or `E`).
pub fn ready_for_query(status: u8, out: &mut Vec<u8>) {
    encode(b'Z', &[status], out);
}

/// ParameterStatus `name` = `value`.
pub fn parameter_status(name: &str, value: &str, out: &mut Vec<u8>) {
    let mut body = Vec::with_capacity(name.len() + value.len() + 2);
    body.extend(name.bytes().filter(|&b| b != 0));
    body.push(0);
    body.extend(value.bytes().filter(|&b| b != 0));
    body.push(0);
    encode(b'S', &body, out);
}

/// An authentication request: `code` and its data.
pub fn authentication(code: i32, data: &[u8], out: &mut Vec<u8>) {
    let mut body = Vec::with_capacity(4 + data.len());
    body.extend(code.to_be_bytes());
    body.extend_from_slice(data);
    encode(b'R', &body, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_split_and_join_across_reads() {
        let mut wire = Vec::new();
        encode(b'Q', b"SELECT 1\0", &mut wire);
        encode(b'S', b"", &mut wire);
        let mut reader = Reader::new(100);
        let mut stream = tokio_test_stream(&wire, 3);
        let a = reader.next(&mut stream).await.unwrap().unwrap();
        assert_eq!((a.tag, &a.body[..]), (b'Q', &b"SELECT 1\0"[..]));
        let b = reader.next(&mut stream).await.unwrap().unwrap();
        assert_eq!((b.tag, b.body.len()), (b'S', 0));
        assert!(reader.next(&mut stream).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn lengths_are_bounded_and_truncation_is_an_error() {
        let mut reader = Reader::new(100);
        let mut s = tokio_test_stream(&[b'Q', 0, 0, 1, 0], 5);
        assert!(matches!(reader.next(&mut s).await, Err(ReadError::Length(256))));
        let mut reader = Reader::new(100);
        let mut s = tokio_test_stream(&[b'Q', 0, 0, 0, 3], 5);
        assert!(matches!(reader.next(&mut s).await, Err(ReadError::Length(3))));
        let mut reader = Reader::new(100);
        let mut s = tokio_test_stream(&[b'Q', 0, 0, 0, 9, b'x'], 6);
        assert!(matches!(reader.next(&mut s).await, Err(ReadError::Io(_))));
    }

    /// A reader that yields `data` in chunks of `chunk` bytes.
    fn tokio_test_stream(data: &[u8], chunk: usize) -> impl AsyncRead + Unpin {
        Chunks(data.chunks(chunk).map(<[u8]>::to_vec).collect())
    }

    struct Chunks(std::collections::VecDeque<Vec<u8>>);

    impl AsyncRead for Chunks {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if let Some(c) = self.0.pop_front() {
                buf.put_slice(&c);
            }
            std::task::Poll::Ready(Ok(()))
        }
    }
}
