//! The control socket's protocol: how a gateway, which has no Docker access, asks the
//! controller to wake a tenant and tells it which tenants have clients.
//!
//! The socket is `run/control.sock` in the state dir. A gateway connects (connecting to a socket
//! works on the read-only mount a managed gateway has), writes one request as a line of JSON and
//! reads one reply line:
//!
//! ```text
//! {"wake":"tenant1"}                  -> {"ok":true}   (once tenant1 accepts connections)
//! {"active":["tenant1","tenant2"]}    -> {"ok":true}   (tenants with clients since the last report)
//! anything that fails                 -> {"ok":false,"error":"..."}
//! ```

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// Longest request or reply line (an activity report names at most every tenant).
pub const MAX_LINE: usize = 1 << 20;

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Request {
    /// Start a suspended tenant; the reply comes when it accepts connections.
    Wake(String),
    /// These tenants had clients since the last report.
    Active(Vec<String>),
}

/// The reply to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Whether the request succeeded.
    pub ok: bool,
    /// Why it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Reply {
    /// Success.
    pub fn ok() -> Self {
        Reply { ok: true, error: None }
    }
    /// Failure with a reason.
    pub fn failed(why: impl Into<String>) -> Self {
        Reply { ok: false, error: Some(why.into()) }
    }
}

/// Why a request got no successful reply.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No controller listens (none running, or no Docker access where it would run).
    #[error("no controller answers on the control socket: {0}")]
    NoController(std::io::Error),
    /// The controller did not answer within the deadline.
    #[error("the controller did not answer in time")]
    Timeout,
    /// The controller answered with an error.
    #[error("{0}")]
    Failed(String),
}

/// Sends `request` to the controller listening at `socket` and waits at most `timeout` for its
/// reply.
pub async fn call(socket: &Path, request: &Request, timeout: Duration) -> Result<(), CallError> {
    let exchange = async {
        let stream = UnixStream::connect(socket).await.map_err(CallError::NoController)?;
        let mut stream = BufReader::new(stream);
        let mut line = serde_json::to_vec(request).map_err(|e| CallError::Failed(e.to_string()))?;
        line.push(b'\n');
        stream.get_mut().write_all(&line).await.map_err(CallError::NoController)?;
        let reply = read_line(&mut stream).await.map_err(CallError::NoController)?;
        let reply: Reply = serde_json::from_str(&reply).map_err(|e| CallError::Failed(format!("bad reply: {e}")))?;
        if reply.ok { Ok(()) } else { Err(CallError::Failed(reply.error.unwrap_or_default())) }
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| CallError::Timeout)?
}

/// Reads one line of at most [`MAX_LINE`] bytes (without its newline).
pub async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<String> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let n = (&mut *reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut buf).await?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    if buf.last() != Some(&b'\n') {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "line too long or unterminated"));
    }
    buf.pop();
    String::from_utf8(buf).map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format() {
        assert_eq!(serde_json::to_string(&Request::Wake("t1".into())).unwrap(), r#"{"wake":"t1"}"#);
        assert_eq!(serde_json::to_string(&Request::Active(vec!["a".into()])).unwrap(), r#"{"active":["a"]}"#);
        assert_eq!(serde_json::to_string(&Reply::ok()).unwrap(), r#"{"ok":true}"#);
        assert!(serde_json::from_str::<Request>(r#"{"drop":"x"}"#).is_err());
    }

    #[tokio::test]
    async fn lines_are_bounded() {
        let long = vec![b'a'; MAX_LINE + 10];
        let mut r = BufReader::new(&long[..]);
        assert!(read_line(&mut r).await.is_err());
        let mut r = BufReader::new(&b"{}\nrest"[..]);
        assert_eq!(read_line(&mut r).await.unwrap(), "{}");
        assert!(read_line(&mut r).await.is_err(), "unterminated");
    }

    #[tokio::test]
    async fn no_controller_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = call(&dir.path().join("none.sock"), &Request::Wake("t".into()), Duration::from_secs(1)).await;
        assert!(matches!(e, Err(CallError::NoController(_))), "{e:?}");
    }
}
