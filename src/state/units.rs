//! Sizes and durations as operators write them (`512m`, `15m`), for the CLI's flags and the
//! API's bodies alike.

/// Parses sizes such as `512m`, `2g`, `1073741824` into bytes.
pub fn parse_size(s: &str) -> Result<i64, String> {
    let s = s.trim().to_ascii_lowercase();
    let s = s.strip_suffix('b').unwrap_or(&s);
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit() && *c != '.') {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    };
    let factor: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!("unknown size unit {unit:?}: use k, m or g, e.g. 512m"));
        }
    };
    let n: f64 = digits.parse().map_err(|_| format!("invalid size {s:?}: e.g. 512m or 2g"))?;
    let bytes = (n * factor) as i64;
    if bytes < 6 * 1024 * 1024 {
        return Err("memory limit below Docker's minimum of 6m".into());
    }
    Ok(bytes)
}

/// Parses a duration: seconds, or a number with `s`, `m`, `h` or `d` (`90`, `30s`, `15m`, `2h`).
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let s = s.trim().to_ascii_lowercase();
    let (digits, factor) = match s.chars().last() {
        Some('s') => (&s[..s.len() - 1], 1),
        Some('m') => (&s[..s.len() - 1], 60),
        Some('h') => (&s[..s.len() - 1], 3600),
        Some('d') => (&s[..s.len() - 1], 86400),
        _ => (s.as_str(), 1),
    };
    let n: u64 = digits.parse().map_err(|_| format!("invalid duration {s:?}: e.g. 90s, 15m or 2h"))?;
    match n.checked_mul(factor) {
        Some(0) => Err("the duration must be more than zero".into()),
        Some(secs) => Ok(secs),
        None => Err(format!("duration {s:?} is too long")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512m"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_size("2G"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("1.5g"), Ok(1536 * 1024 * 1024));
        assert!(parse_size("1x").is_err());
        assert!(parse_size("1k").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("15m"), Ok(900));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1y").is_err());
    }
}
