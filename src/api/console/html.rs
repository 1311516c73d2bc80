//! The console's page frame and the escaping every value goes through.

use axum::response::Html;

use super::session::Operator;

/// `s` with `&`, `<`, `>`, `"` and `'` escaped for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The hidden CSRF field of a form.
pub fn csrf(op: &Operator) -> String {
    format!(r#"<input type="hidden" name="csrf" value="{}">"#, esc(&op.csrf))
}

/// Unix time as `YYYY-MM-DD HH:MM UTC`.
pub fn when(unix: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix as i64)
        .map(|t| {
            format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
        })
        .unwrap_or_default()
}

const STYLE: &str = r#"
body{font-family:system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#fff;text-decoration:none}header .who{margin-left:auto;font-size:.9rem;opacity:.8}
main{padding:1rem 1.2rem;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:.35rem .5rem;border-bottom:1px solid #e2e5ea;text-align:left;font-size:.92rem}
th{background:#eef0f3}.bad{color:#b3261e;font-weight:600}.ok{color:#1b6e3a}.muted{color:#6b7280}
section{background:#fff;border:1px solid #e2e5ea;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin:.2rem 0 .6rem}
form.inline{display:inline}input,select,button{font:inherit;padding:.25rem .4rem}
button{cursor:pointer;border:1px solid #9aa3af;background:#fff;border-radius:4px}button.danger{border-color:#b3261e;color:#b3261e}
code{background:#eef0f3;padding:.1rem .3rem;border-radius:3px;word-break:break-all}
.events li{font-family:ui-monospace,monospace;font-size:.85rem}
"#;

/// A whole page: the header with the operator's token and a logout, then `body`.
pub fn page(title: &str, op: Option<&Operator>, body: &str) -> Html<String> {
    let nav = match op {
        Some(op) => format!(
            r#"<a href="/console">Tenants</a><a href="/console/status">Gateway and nodes</a>
<span class="who">token {} ({})</span>
<form class="inline" method="post" action="/console/logout">{}<button>Log out</button></form>"#,
            esc(&op.token.name),
            if op.writes() { "read-write" } else { "read-only" },
            csrf(op)
        ),
        None => String::new(),
    };
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{} · pgs</title><style>{STYLE}</style></head>
<body><header><strong>pgs</strong>{nav}</header><main>{body}</main></body></html>"#,
        esc(title)
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(super::esc(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
