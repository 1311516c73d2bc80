//! Everything a client can cause ends here: one enum of refusals, each mapped to a SQLSTATE and
//! a message a person understands, sent as a PostgreSQL `ErrorResponse` before closing. No
//! message names an internal address.

use std::fmt;

/// Why the gateway refuses a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed or unexpected packet.
    Protocol(String),
    /// A plaintext startup while TLS is mandatory.
    TlsRequired,
    /// No SNI, `options` or user name named a tenant.
    NoTenant,
    /// Two routing keys named different tenants.
    Conflict(String, String),
    /// No such tenant.
    UnknownTenant(String),
    /// Access switched off by the operator.
    AccessDisabled(String),
    /// Client address not in the tenant's allowlist.
    NotAllowed(String),
    /// Tenant stopped by the operator.
    Stopped(String),
    /// Tenant's PostgreSQL cannot be reached.
    Unreachable(String),
    /// An HA tenant has no primary right now (a failover is under way).
    FailingOver(String),
    /// A suspended tenant did not finish starting within the wake timeout.
    Waking(String),
    /// Connection limit reached (`None`: the gateway's, `Some`: the tenant's).
    TooMany(Option<String>),
    /// The gateway is shutting down.
    ShuttingDown,
    /// A replaced (or stopping) gateway ends a session that outlived its drain deadline.
    Restarting,
}

impl Refusal {
    /// The SQLSTATE sent with the error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Refusal::Protocol(_) => "08P01",
            Refusal::TlsRequired | Refusal::NoTenant | Refusal::Conflict(..) | Refusal::NotAllowed(_) => "28000",
            Refusal::UnknownTenant(_) => "3D000",
            Refusal::AccessDisabled(_) => "08004",
            Refusal::Stopped(_) | Refusal::Waking(_) | Refusal::ShuttingDown | Refusal::FailingOver(_) => "57P03",
            Refusal::Unreachable(_) => "08006",
            Refusal::TooMany(_) => "53300",
            Refusal::Restarting => "57P01",
        }
    }

    /// A short label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Protocol(_) => "protocol",
            Refusal::TlsRequired => "tls_required",
            Refusal::NoTenant => "no_tenant",
            Refusal::Conflict(..) => "conflict",
            Refusal::UnknownTenant(_) => "unknown_tenant",
            Refusal::AccessDisabled(_) => "access_disabled",
            Refusal::NotAllowed(_) => "not_allowed",
            Refusal::Stopped(_) => "stopped",
            Refusal::Unreachable(_) => "unreachable",
            Refusal::FailingOver(_) => "failing_over",
            Refusal::Waking(_) => "waking",
            Refusal::TooMany(_) => "too_many",
            Refusal::ShuttingDown => "shutting_down",
            Refusal::Restarting => "restarting",
        }
    }

    /// The complete `ErrorResponse` message (severity FATAL).
    pub fn to_error_response(&self) -> Vec<u8> {
        error_response("FATAL", self.sqlstate(), &self.to_string(), self.hint())
    }

    fn hint(&self) -> Option<&'static str> {
        match self {
            Refusal::TlsRequired => Some("Connect with sslmode=require or stronger."),
            Refusal::NoTenant => Some(
                "Connect to TENANT.DOMAIN with SNI, or name the tenant with options=tenant=TENANT or user USER.TENANT.",
            ),
            _ => None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Protocol(what) => write!(f, "protocol violation: {what}"),
            Refusal::TlsRequired => f.write_str("this server requires TLS (SSL) connections"),
            Refusal::NoTenant => f.write_str("no tenant named by the connection"),
            Refusal::Conflict(a, b) => write!(f, "the connection names two different tenants ({a} and {b})"),
            Refusal::UnknownTenant(t) => write!(f, "tenant {t} does not exist"),
            Refusal::AccessDisabled(t) => write!(f, "tenant {t} does not accept external connections"),
            Refusal::NotAllowed(t) => write!(f, "tenant {t} does not accept connections from this address"),
            Refusal::Stopped(t) => write!(f, "tenant {t} is stopped"),
            Refusal::Unreachable(t) => write!(f, "tenant {t} is not reachable right now; try again later"),
            Refusal::FailingOver(t) => {
                write!(f, "tenant {t} is failing over to its standby; try again in a few seconds")
            }
            Refusal::Waking(t) => write!(
                f,
                "the database system of tenant {t} is starting up (it was suspended); try again in a few seconds"
            ),
            Refusal::TooMany(None) => f.write_str("too many connections to the gateway"),
            Refusal::TooMany(Some(t)) => write!(f, "too many connections for tenant {t}"),
            Refusal::ShuttingDown => f.write_str("the gateway is shutting down"),
            Refusal::Restarting => f.write_str("the gateway is restarting, reconnect"),
        }
    }
}

/// Builds an `ErrorResponse`: `E`, length, fields (`S`, `V`, `C`, `M`, optional `H`), NUL.
pub fn error_response(severity: &str, sqlstate: &str, message: &str, hint: Option<&str>) -> Vec<u8> {
    let mut body = Vec::with_capacity(64 + message.len());
    let mut field = |code: u8, value: &str| {
        body.push(code);
        body.extend(value.bytes().filter(|&b| b != 0));
        body.push(0);
    };
    field(b'S', severity);
    field(b'V', severity);
    field(b'C', sqlstate);
    field(b'M', message);
    if let Some(h) = hint {
        field(b'H', h);
    }
    body.push(0);
    let mut msg = Vec::with_capacity(body.len() + 5);
    msg.push(b'E');
    msg.extend(((body.len() + 4) as u32).to_be_bytes());
    msg.extend(body);
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_response_layout() {
        let msg = Refusal::AccessDisabled("t2".into()).to_error_response();
        assert_eq!(msg[0], b'E');
        let len = u32::from_be_bytes(msg[1..5].try_into().unwrap()) as usize;
        assert_eq!(len + 1, msg.len());
        let text = String::from_utf8_lossy(&msg);
        assert!(text.contains("C08004\0"));
        assert!(text.contains("Mtenant t2 does not accept external connections\0"));
        assert_eq!(*msg.last().unwrap(), 0);
    }

    #[test]
    fn every_refusal_has_a_specific_sqlstate() {
        for r in [
            Refusal::TlsRequired,
            Refusal::NoTenant,
            Refusal::UnknownTenant("x".into()),
            Refusal::AccessDisabled("x".into()),
            Refusal::Stopped("x".into()),
            Refusal::TooMany(None),
            Refusal::Restarting,
        ] {
            assert_ne!(r.sqlstate(), "XX000");
        }
    }
}
