//! The session's byte pump, and how the gateway ends a session with a message of its own.
//!
//! After startup, bytes flow unparsed both ways (`copy_bidirectional`). To end a session cleanly
//! (the drain deadline of a replaced gateway, revoked access) the gateway must send the client an
//! ErrorResponse, and that must not land inside one of the backend's messages. So the backend's
//! side is read through [`Ending`]: it counts message boundaries as bytes pass (a 5-byte header
//! then a body, no copying), and once asked to end, it reads only up to the next boundary, then
//! yields the gateway's goodbye message as if the backend had sent it, then end of stream. The
//! pump passes the goodbye on and half-closes the client, as it does for any end of stream.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Where the backend's byte stream stands relative to message boundaries.
#[derive(Debug, Default, Clone)]
pub struct Boundary {
    header: [u8; 5],
    /// Header bytes seen of the current message (0 when between header and body or at a boundary).
    have: usize,
    /// Body bytes of the current message still to come.
    remaining: usize,
}

impl Boundary {
    /// Follows `data`, the next bytes of the stream.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.remaining > 0 {
                let n = self.remaining.min(data.len());
                self.remaining -= n;
                data = &data[n..];
                continue;
            }
            let n = (5 - self.have).min(data.len());
            self.header[self.have..self.have + n].copy_from_slice(&data[..n]);
            self.have += n;
            data = &data[n..];
            if self.have == 5 {
                let len = u32::from_be_bytes([self.header[1], self.header[2], self.header[3], self.header[4]]);
                // A length below 4 is a protocol error of the backend; treat it as an empty body.
                self.remaining = (len as usize).saturating_sub(4);
                self.have = 0;
            }
        }
    }

    /// Whether the bytes so far end exactly at a message boundary.
    pub fn at_boundary(&self) -> bool {
        self.have == 0 && self.remaining == 0
    }

    /// How many bytes may be read without passing the next boundary (or, inside a header, the
    /// end of the header).
    fn until_boundary(&self) -> usize {
        if self.remaining > 0 { self.remaining } else { 5 - self.have }
    }
}

/// What ends a session early: resolves to the message the client gets.
pub type Stop = Pin<Box<dyn Future<Output = Vec<u8>> + Send>>;

/// The backend's side of a session, read so that the session can end at a message boundary.
pub struct Ending<S> {
    inner: S,
    boundary: Boundary,
    stop: Option<Stop>,
    /// The goodbye, once asked to end (not yet at a boundary).
    pending: Option<Vec<u8>>,
    /// The goodbye being yielded, and how much of it is out.
    goodbye: Option<(Vec<u8>, usize)>,
}

impl<S> Ending<S> {
    /// Wraps the backend stream; `boundary` is where startup left it, `stop` what ends it.
    pub fn new(inner: S, boundary: Boundary, stop: Stop) -> Self {
        Self { inner, boundary, stop: Some(stop), pending: None, goodbye: None }
    }

    /// Whether the session was asked to end.
    pub fn ended(&self) -> bool {
        self.pending.is_some() || self.goodbye.is_some()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Ending<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if let Some((msg, sent)) = &mut this.goodbye {
            // Yield the goodbye, then end of stream.
            let n = (msg.len() - *sent).min(buf.remaining());
            buf.put_slice(&msg[*sent..*sent + n]);
            *sent += n;
            return Poll::Ready(Ok(()));
        }
        if let Some(stop) = &mut this.stop
            && let Poll::Ready(msg) = stop.as_mut().poll(cx)
        {
            this.stop = None;
            this.pending = Some(msg);
        }
        if this.pending.is_some() && this.boundary.at_boundary() {
            this.goodbye = this.pending.take().map(|m| (m, 0));
            return Pin::new(this).poll_read(cx, buf);
        }
        if this.pending.is_none() {
            let before = buf.filled().len();
            ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
            this.boundary.feed(&buf.filled()[before..]);
            return Poll::Ready(Ok(()));
        }
        // Asked to end inside a message: read no further than its end.
        let mut chunk = vec![0u8; this.boundary.until_boundary().min(buf.remaining()).min(16 * 1024)];
        let mut part = ReadBuf::new(&mut chunk);
        ready!(Pin::new(&mut this.inner).poll_read(cx, &mut part))?;
        let got = part.filled();
        if got.is_empty() {
            // The backend closed mid-message: nothing clean can follow.
            this.pending = None;
            return Poll::Ready(Ok(()));
        }
        this.boundary.feed(got);
        buf.put_slice(got);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Ending<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![tag];
        m.extend(((body.len() + 4) as u32).to_be_bytes());
        m.extend(body);
        m
    }

    #[test]
    fn boundaries_are_found_across_any_split() {
        let stream: Vec<u8> = [msg(b'T', b"abc"), msg(b'D', &[7; 300]), msg(b'Z', b"I")].concat();
        for cut in 0..stream.len() {
            let mut b = Boundary::default();
            b.feed(&stream[..cut]);
            let expected = [0, 8, 8 + 305, stream.len()].contains(&cut);
            assert_eq!(b.at_boundary(), expected, "cut at {cut}");
            b.feed(&stream[cut..]);
            assert!(b.at_boundary());
        }
    }

    proptest! {
        #[test]
        fn any_bytes_are_followed_without_panic(data in proptest::collection::vec(any::<u8>(), 0..2048), split in 0usize..2048) {
            let mut b = Boundary::default();
            let split = split.min(data.len());
            b.feed(&data[..split]);
            b.feed(&data[split..]);
            prop_assert!(b.until_boundary() > 0);
        }
    }

    #[tokio::test]
    async fn the_goodbye_comes_after_the_message_in_flight_and_never_inside_it() {
        let (mut backend, gateway_side) = tokio::io::duplex(64 * 1024);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let stop: Stop = Box::pin(async move {
            let _ = rx.await;
            b"BYE".to_vec()
        });
        let mut ending = Ending::new(gateway_side, Boundary::default(), stop);
        let row = msg(b'D', &[1; 1000]);
        backend.write_all(&row[..600]).await.unwrap();
        let mut got = vec![0u8; 600];
        ending.read_exact(&mut got).await.unwrap();
        tx.send(()).unwrap();
        // The rest of the row and more rows are on the way; only the row in flight passes.
        backend.write_all(&row[600..]).await.unwrap();
        backend.write_all(&msg(b'D', &[2; 50])).await.unwrap();
        let mut rest = Vec::new();
        ending.read_to_end(&mut rest).await.unwrap();
        got.extend(rest);
        assert_eq!(got, [row, b"BYE".to_vec()].concat());
        assert!(ending.ended());
    }
}
