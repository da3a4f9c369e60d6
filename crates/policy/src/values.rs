//! Typed condition values: ISO 8601 date-times, IP addresses / CIDR blocks, numbers, booleans.
//!
//! Everything here is total: malformed input yields `None`, never a panic.

use std::net::IpAddr;

/// A point in time as nanoseconds since the Unix epoch (UTC). Comparable with `<`.
pub type Instant = i128;

/// Parse the ISO 8601 forms used by `acs:CurrentTime` and Date* condition values.
///
/// The RAM docs give `acs:CurrentTime` as "ISO 8601 format, e.g. 2017-11-11T23:59:59Z"
/// (MaxCompute "ACS reserved condition keys" table). Accepted forms:
/// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fraction]]` followed by `Z`, `±HH:MM` or `±HHMM`
/// (a missing zone means UTC), and a space instead of `T`.
pub fn parse_iso8601(s: &str) -> Option<Instant> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let mut secs: i64 = days * 86_400;
    let mut nanos: i64 = 0;
    let mut rest = &b[10..];
    if !rest.is_empty() {
        if rest[0] != b'T' && rest[0] != b't' && rest[0] != b' ' {
            return None;
        }
        rest = &rest[1..];
        if rest.len() < 5 || rest[2] != b':' {
            return None;
        }
        let hour = digits(&rest[0..2])?;
        let minute = digits(&rest[3..5])?;
        rest = &rest[5..];
        let mut second = 0;
        if rest.first() == Some(&b':') {
            if rest.len() < 3 {
                return None;
            }
            second = digits(&rest[1..3])?;
            rest = &rest[3..];
            if rest.first() == Some(&b'.') || rest.first() == Some(&b',') {
                rest = &rest[1..];
                let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
                if n == 0 || n > 9 {
                    return None;
                }
                let mut frac = digits(&rest[..n])?;
                for _ in n..9 {
                    frac *= 10;
                }
                nanos = frac;
                rest = &rest[n..];
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        secs += hour * 3600 + minute * 60 + second;
        match rest {
            [] | [b'Z'] | [b'z'] => {}
            [sign @ (b'+' | b'-'), zone @ ..] => {
                let (zh, zm) = match zone {
                    [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                        (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                    }
                    [h1, h2] => (digits(&[*h1, *h2])?, 0),
                    _ => return None,
                };
                if zh > 23 || zm > 59 {
                    return None;
                }
                let offset = zh * 3600 + zm * 60;
                // Local time = UTC + offset, so UTC = local - offset.
                secs += if *sign == b'+' { -offset } else { offset };
            }
            _ => return None,
        }
    }
    Some(i128::from(secs) * 1_000_000_000 + i128::from(nanos))
}

/// Format Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (the `acs:CurrentTime` form).
pub fn format_iso8601(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let sod = unix_secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0')))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public-domain algorithms).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An IP network (`addr/prefix`); a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    v6: bool,
    bits: u128,
    prefix: u8,
}

impl IpNet {
    /// Parse `1.2.3.4`, `1.2.3.0/24`, `2001:db8::/32`, `::1`. Host bits are ignored.
    pub fn parse(s: &str) -> Option<IpNet> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                (a, Some(p.parse::<u8>().ok()?))
            }
            None => (s, None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let (v6, bits, max) = split(ip);
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        Some(IpNet {
            v6,
            bits: bits & mask(prefix, max),
            prefix,
        })
    }

    /// Does this network contain `ip`? IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`)
    /// are treated as their IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (v6, bits, max) = split(ip);
        v6 == self.v6 && bits & mask(self.prefix, max) == self.bits
    }
}

fn split(ip: IpAddr) -> (bool, u128, u8) {
    match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => (false, u128::from(u32::from(v4)), 32),
            None => (true, u128::from(a), 128),
        },
    }
}

fn mask(prefix: u8, max: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        let all: u128 = if max == 32 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        };
        all & !(all >> prefix)
    }
}

/// Parse a request-side IP (no prefix). Accepts `[v6]` brackets.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    s.parse::<IpAddr>().ok()
}

/// Parse a numeric condition value (integer or decimal, optional sign and exponent).
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .bytes()
            .all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parse a Bool condition value: `true` / `false`, ASCII case-insensitive.
pub fn parse_bool(s: &str) -> Option<bool> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601("1970-01-01"), Some(0));
        assert_eq!(
            parse_iso8601("2017-11-11T23:59:59Z"),
            Some(1_510_444_799 * 1_000_000_000)
        );
        assert_eq!(
            parse_iso8601("2017-11-12T07:59:59+08:00"),
            parse_iso8601("2017-11-11T23:59:59Z")
        );
        assert_eq!(
            parse_iso8601("2017-11-11T23:59:59.5Z"),
            Some(1_510_444_799 * 1_000_000_000 + 500_000_000)
        );
        assert_eq!(parse_iso8601("2019-02-29T00:00:00Z"), None);
        assert!(parse_iso8601("2020-02-29T00:00:00Z").is_some());
        assert_eq!(parse_iso8601("2017-13-01T00:00:00Z"), None);
        assert_eq!(parse_iso8601("not a date"), None);
        assert_eq!(parse_iso8601("2017-11-11T23:59:59Q"), None);
        assert_eq!(format_iso8601(1_510_444_799), "2017-11-11T23:59:59Z");
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00Z");
        for secs in [-86_401i64, 951_782_400, 4_102_444_800, 1_700_000_000] {
            assert_eq!(
                parse_iso8601(&format_iso8601(secs)),
                Some(i128::from(secs) * 1_000_000_000)
            );
        }
    }

    #[test]
    fn cidr() {
        let n = IpNet::parse("192.168.0.0/16").expect("cidr");
        assert!(n.contains("192.168.3.4".parse().expect("ip")));
        assert!(!n.contains("192.169.0.1".parse().expect("ip")));
        assert!(n.contains("::ffff:192.168.1.1".parse().expect("ip")));
        let one = IpNet::parse("10.0.0.5").expect("ip");
        assert!(one.contains("10.0.0.5".parse().expect("ip")));
        assert!(!one.contains("10.0.0.6".parse().expect("ip")));
        let v6 = IpNet::parse("2001:db8::/32").expect("v6");
        assert!(v6.contains("2001:db8:1::1".parse().expect("ip")));
        assert!(!v6.contains("2001:db9::1".parse().expect("ip")));
        assert!(!v6.contains("10.0.0.1".parse().expect("ip")));
        let all = IpNet::parse("0.0.0.0/0").expect("all");
        assert!(all.contains("8.8.8.8".parse().expect("ip")));
        assert!(IpNet::parse("10.0.0.0/33").is_none());
        assert!(IpNet::parse("::/129").is_none());
        assert!(IpNet::parse("10.0.0/8").is_none());
        assert!(IpNet::parse("10.0.0.0/").is_none());
    }
}
