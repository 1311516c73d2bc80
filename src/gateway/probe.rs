//! Is a tenant's PostgreSQL accepting connections? One startup message, one answer, no login.
//!
//! What `pg_isready` does, without a process or a `docker exec`: send a startup message for a
//! role and read the first reply. An authentication request means the server accepts
//! connections; an ErrorResponse with SQLSTATE 57P03 means it is still starting (or shutting
//! down). The probe then hangs up; PostgreSQL logs nothing for a client that leaves during
//! authentication, so a probe every few seconds leaves no trace in the tenant's log. It costs the
//! server one short-lived backend process, and pgs sends one only when someone asks (`pgs list`,
//! `pgs info`) or while it waits for a start.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::backend::BackendAddr;
use super::frame::Startup;

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The server asked for authentication: it accepts connections.
    Accepting,
    /// The server answered 57P03: starting up, shutting down or in recovery without hot standby.
    Starting,
    /// The server answered with another error (too many clients counts as accepting: it runs).
    Error(String),
    /// Nothing listens at the address (no socket file, connection refused).
    Down,
    /// Connected, but no answer within the deadline: the server hangs.
    NoAnswer,
}

/// Longest ErrorResponse the probe reads.
const MAX_ERROR: usize = 8192;

/// Probes `addr` as `user` (database of the same name), waiting at most `timeout`.
pub async fn probe(addr: &BackendAddr, user: &str, timeout: Duration) -> Answer {
    let Ok(connected) = tokio::time::timeout(timeout, addr.connect()).await else { return Answer::NoAnswer };
    let Ok(mut stream) = connected else { return Answer::Down };
    let startup =
        Startup { version: 3 << 16, params: vec![("user".into(), user.into()), ("database".into(), user.into())] };
    let exchange = async {
        stream.write_all(&startup.encode()).await?;
        let kind = stream.read_u8().await?;
        let len = stream.read_u32().await? as usize;
        if kind != b'E' {
            return Ok(if kind == b'R' {
                Answer::Accepting
            } else {
                Answer::Error(format!("unexpected message {kind:#x}"))
            });
        }
        let mut body = vec![0; len.saturating_sub(4).min(MAX_ERROR)];
        stream.read_exact(&mut body).await?;
        Ok::<_, std::io::Error>(classify_error(&body))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) => Answer::Down,
        Err(_) => Answer::NoAnswer,
    }
}

/// Reads an ErrorResponse body: 57P03 is [`Answer::Starting`], 53300 (too many clients) means
/// the server runs, anything else is [`Answer::Error`] with the message.
fn classify_error(body: &[u8]) -> Answer {
    let mut code = "";
    let mut message = "";
    for field in body.split(|&b| b == 0) {
        let Some((&kind, value)) = field.split_first() else { continue };
        let value = std::str::from_utf8(value).unwrap_or("");
        match kind {
            b'C' => code = value,
            b'M' => message = value,
            _ => {}
        }
    }
    match code {
        "57P03" => Answer::Starting,
        "53300" => Answer::Accepting,
        _ => Answer::Error(format!("{code}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_error_codes() {
        let body = b"SFATAL\0C57P03\0Mthe database system is starting up\0\0";
        assert_eq!(classify_error(body), Answer::Starting);
        assert_eq!(classify_error(b"C53300\0Msorry, too many clients already\0\0"), Answer::Accepting);
        assert_eq!(
            classify_error(b"C28000\0Mno pg_hba.conf entry\0\0"),
            Answer::Error("28000: no pg_hba.conf entry".into())
        );
        assert_eq!(classify_error(b"\xff\xfe"), Answer::Error(": ".into()));
    }

    #[tokio::test]
    async fn nothing_listening_is_down_and_silence_is_no_answer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        assert_eq!(probe(&BackendAddr::Unix(path.clone()), "u", Duration::from_millis(200)).await, Answer::Down);
        let _listener = tokio::net::UnixListener::bind(&path).unwrap();
        assert_eq!(probe(&BackendAddr::Unix(path), "u", Duration::from_millis(200)).await, Answer::NoAnswer);
    }

    #[tokio::test]
    async fn an_authentication_request_is_accepting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let len = s.read_u32().await.unwrap();
            let mut rest = vec![0; len as usize - 4];
            s.read_exact(&mut rest).await.unwrap();
            s.write_all(b"R\0\0\0\x0c\0\0\0\x0aSCRAM").await.unwrap();
        });
        assert_eq!(probe(&BackendAddr::Unix(path), "u", Duration::from_secs(2)).await, Answer::Accepting);
    }
}
