//! Strict `xs:dateTime` in UTC, as SAML requires.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`. Offsets other than `Z`, missing `Z`, `24:00:00`,
/// leap seconds, years outside 0001–9999 and more than nine fractional digits are refused.
pub fn parse_utc(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20 || *b.last()? != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = num(0..4)?;
    let (month, day) = (num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = &b[19..b.len() - 1];
    let nanos = match rest {
        [] => 0,
        [b'.', digits @ ..]
            if (1..=9).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit) =>
        {
            let mut n: u32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
            for _ in digits.len()..9 {
                n *= 10;
            }
            n
        }
        _ => return None,
    };
    if year == 0 || hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let time = NaiveTime::from_hms_nano_opt(hour, min, sec, nanos)?;
    Some(NaiveDateTime::new(date, time).and_utc())
}

/// Parses an `xs:duration` of the forms SAML metadata uses (`PnDTnHnMnS`, `PTnS`, ...) into
/// seconds. Years and months count as 365 and 30 days.
pub fn parse_duration_secs(s: &str) -> Option<u64> {
    let rest = s.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total: f64 = 0.0;
    let mut any = false;
    let mut take = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
            } else {
                let mult = units.iter().find(|(u, _)| *u == c)?.1;
                total += num.parse::<f64>().ok()? * mult;
                num.clear();
                any = true;
            }
        }
        num.is_empty().then_some(())
    };
    take(
        date,
        &[
            ('Y', 365.0 * 86400.0),
            ('M', 30.0 * 86400.0),
            ('D', 86400.0),
        ],
    )?;
    if let Some(t) = time {
        take(t, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    any.then_some(total as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_utc() {
        assert!(parse_utc("2027-01-01T00:00:00Z").is_some());
        assert!(parse_utc("2017-07-28T15:13:11.331Z").is_some());
        assert!(parse_utc("2017-07-28T15:13:11.1234567Z").is_some());
        assert_eq!(
            parse_utc("2027-01-01T00:00:00.5Z")
                .unwrap()
                .timestamp_subsec_millis(),
            500
        );
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "2027-01-01T00:00:00",
            "2027-01-01T00:00:00+01:00",
            "2027-01-01T24:00:00Z",
            "2027-01-01T23:59:60Z",
            "10000-01-01T00:00:00Z",
            "2027-01-01T00:00:00.12345678901234567890Z",
            "2027-02-30T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "2027-1-01T00:00:00Z",
            " 2027-01-01T00:00:00Z",
            "",
        ] {
            assert!(parse_utc(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("PT1H"), Some(3600));
        assert_eq!(parse_duration_secs("P1DT2M"), Some(86400 + 120));
        assert_eq!(parse_duration_secs("PT30S"), Some(30));
        assert_eq!(parse_duration_secs("X"), None);
        assert_eq!(parse_duration_secs("P"), None);
    }
}
