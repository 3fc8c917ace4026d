//! The local time, for [`crate::summary::SummaryWriter::default_logdir`]'s
//! `runs/<date>_<host>` name, which PyTorch writes in local time
//! (`datetime.now()`).
//!
//! The standard library has no time zones, and a crate for them (or libc's
//! `localtime_r`) would be a new dependency of every user, so the offset
//! from UTC is found the way the C library finds it: from the `TZ`
//! variable (a zone file name such as `Europe/Berlin`, or a POSIX rule such
//! as `CET-1CEST,M3.5.0,M10.5.0/3`), else from `/etc/localtime`, else UTC.
//! Zone files are TZif (RFC 8536): the transition before the instant gives
//! the offset, and the footer's POSIX rule covers the instants after the
//! last transition.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Where zone files live when `TZ` names one and `TZDIR` is unset.
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// Seconds in a day.
const DAY: i64 = 86_400;

/// The name `datetime.now().strftime("%b%d_%H-%M-%S")` gives the instant
/// `unix` seconds (UTC) at `offset` seconds east of UTC, as in
/// `Mar05_14-03-07`: English month abbreviation (the C locale's), day,
/// hours, minutes, seconds, each two digits.
pub(crate) fn torch_time_stamp(unix: i64, offset: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let local = unix.saturating_add(offset);
    let (days, secs) = (local.div_euclid(DAY), local.rem_euclid(DAY));
    let (_, month, day) = civil_from_days(days);
    format!(
        "{}{day:02}_{:02}-{:02}-{:02}",
        MONTHS[month as usize - 1],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The local time's offset from UTC, in seconds east, at `unix` seconds,
/// for the value of the `TZ` variable (`None`: unset), as the C library
/// computes it. Anything unreadable or unparsable is UTC, as for the C
/// library.
pub(crate) fn utc_offset(tz: Option<&OsStr>, unix: i64) -> i64 {
    let Some(tz) = tz else {
        return std::fs::read("/etc/localtime")
            .ok()
            .and_then(|data| tzif_offset(&data, unix))
            .unwrap_or(0);
    };
    let tz = tz.to_string_lossy();
    let name = tz.strip_prefix(':').unwrap_or(&tz);
    if name.is_empty() {
        return 0;
    }
    // The C library tries a zone file first, then a POSIX rule.
    let file = if Path::new(name).is_absolute() {
        PathBuf::from(name)
    } else {
        let dir = std::env::var_os("TZDIR").unwrap_or_else(|| ZONEINFO.into());
        Path::new(&dir).join(name)
    };
    std::fs::read(file)
        .ok()
        .and_then(|data| tzif_offset(&data, unix))
        .or_else(|| PosixTz::parse(name).map(|rule| rule.offset(unix)))
        .unwrap_or(0)
}

/// The offset a TZif file (RFC 8536) gives for `unix`; `None` if the data
/// is not a TZif file.
fn tzif_offset(data: &[u8], unix: i64) -> Option<i64> {
    let v1 = TzifBlock::parse(data, 4)?;
    // Version 2 and later repeat the data with 64-bit times, then a
    // POSIX rule for the instants after the last transition.
    let (block, footer) = if data[4] >= b'2' {
        let rest = data.get(v1.len..)?;
        let v2 = TzifBlock::parse(rest, 8)?;
        let footer = rest.get(v2.len..).and_then(|f| {
            let f = std::str::from_utf8(f).ok()?.strip_prefix('\n')?;
            f.split('\n').next()
        });
        (TzifBlock { data: rest, ..v2 }, footer)
    } else {
        (TzifBlock { data, ..v1 }, None)
    };
    block.offset(unix, footer)
}

/// One data block of a TZif file: its counts and where its parts start.
struct TzifBlock<'a> {
    data: &'a [u8],
    /// Bytes of a transition time: 4 (version 1) or 8.
    time_size: usize,
    transitions: usize,
    types: usize,
    /// Header and data, in bytes.
    len: usize,
}

impl<'a> TzifBlock<'a> {
    fn parse(data: &'a [u8], time_size: usize) -> Option<Self> {
        if data.get(..4)? != b"TZif" {
            return None;
        }
        let count = |i: usize| -> Option<usize> {
            let b = data.get(20 + 4 * i..24 + 4 * i)?;
            usize::try_from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok()
        };
        let [isut, isstd, leap, transitions, types, chars] =
            [0, 1, 2, 3, 4, 5].map(|i| count(i).unwrap_or(usize::MAX));
        let len = [
            transitions.checked_mul(time_size + 1)?,
            types.checked_mul(6)?,
            chars,
            leap.checked_mul(time_size + 4)?,
            isstd,
            isut,
        ]
        .iter()
        .try_fold(44usize, |sum, &n| sum.checked_add(n))?;
        (len <= data.len() && types > 0).then_some(TzifBlock {
            data,
            time_size,
            transitions,
            types,
            len,
        })
    }

    fn offset(&self, unix: i64, footer: Option<&str>) -> Option<i64> {
        let data = self.data;
        let time = |i: usize| -> i64 {
            let at = 44 + i * self.time_size;
            match self.time_size {
                4 => i64::from(i32::from_be_bytes(data[at..at + 4].try_into().unwrap())),
                _ => i64::from_be_bytes(data[at..at + 8].try_into().unwrap()),
            }
        };
        let type_offset = |t: usize| -> Option<i64> {
            let at = 44 + self.transitions * (self.time_size + 1) + 6 * t;
            let b = data.get(at..at + 4)?;
            Some(i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])))
        };
        // Transitions are sorted: the last one at or before `unix`.
        let before = (0..self.transitions).rev().find(|&i| time(i) <= unix);
        match before {
            Some(i) if i + 1 == self.transitions => {
                if let Some(rule) = footer.and_then(PosixTz::parse) {
                    return Some(rule.offset(unix));
                }
            }
            Some(_) => {}
            None if self.transitions == 0 => {
                if let Some(rule) = footer.and_then(PosixTz::parse) {
                    return Some(rule.offset(unix));
                }
            }
            None => {}
        }
        let kind = match before {
            Some(i) => usize::from(data[44 + self.transitions * self.time_size + i]),
            // Before the first transition: the first type (RFC 8536 §3.2).
            None => 0,
        };
        type_offset(kind.min(self.types - 1))
    }
}

/// A POSIX `TZ` rule: `std offset [dst [offset] [,start[/time],end[/time]]]`.
#[derive(Debug, Clone, PartialEq)]
struct PosixTz {
    /// Standard time, seconds east of UTC.
    std: i64,
    /// Daylight saving time and when it starts and ends, if any.
    dst: Option<(i64, Rule, Rule)>,
}

/// A day of the year a POSIX rule names, and the local time of day.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rule {
    day: RuleDay,
    secs: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RuleDay {
    /// `Jn`: day 1 to 365, February 29 never counted.
    Julian(i64),
    /// `n`: day 0 to 365, February 29 counted.
    ZeroBased(i64),
    /// `Mm.w.d`: weekday `d` (0 Sunday) of week `w` (5 = last) of month `m`.
    Month(i64, i64, i64),
}

impl PosixTz {
    fn parse(text: &str) -> Option<Self> {
        let mut p = Parser(text.as_bytes());
        p.name()?;
        let std = -p.offset()?;
        if p.0.is_empty() {
            return Some(PosixTz { std, dst: None });
        }
        p.name()?;
        let dst = if p.0.first().is_some_and(|&b| b != b',') {
            -p.offset()?
        } else {
            std + 3600
        };
        // No rule: the United States' since 2007, as the C library assumes.
        let (start, end) = if p.0.is_empty() {
            let at_two = |day| Rule { day, secs: 7200 };
            (
                at_two(RuleDay::Month(3, 2, 0)),
                at_two(RuleDay::Month(11, 1, 0)),
            )
        } else {
            p.eat(b',')?;
            let start = p.rule()?;
            p.eat(b',')?;
            (start, p.rule()?)
        };
        p.0.is_empty().then_some(PosixTz {
            std,
            dst: Some((dst, start, end)),
        })
    }

    fn offset(&self, unix: i64) -> i64 {
        let Some((dst, start, end)) = self.dst else {
            return self.std;
        };
        let (year, _, _) = civil_from_days((unix + self.std).div_euclid(DAY));
        // The start is given in standard time, the end in daylight time.
        let start = start.unix(year) - self.std;
        let end = end.unix(year) - dst;
        let in_dst = if start <= end {
            start <= unix && unix < end
        } else {
            // Southern hemisphere: daylight time spans the new year.
            !(end <= unix && unix < start)
        };
        if in_dst {
            dst
        } else {
            self.std
        }
    }
}

impl Rule {
    /// The rule's instant in `year`, as seconds since the epoch of a
    /// clock that reads the rule's local time.
    fn unix(self, year: i64) -> i64 {
        let jan1 = days_from_civil(year, 1, 1);
        let leap = is_leap(year);
        let day = match self.day {
            RuleDay::Julian(n) => jan1 + n - 1 + i64::from(leap && n >= 60),
            RuleDay::ZeroBased(n) => jan1 + n,
            RuleDay::Month(month, week, weekday) => {
                let first = days_from_civil(year, month, 1);
                // 1970-01-01 was a Thursday (weekday 4).
                let first_weekday = (first + 4).rem_euclid(7);
                let mut day = first + (weekday - first_weekday).rem_euclid(7) + 7 * (week - 1);
                let next_month = if month == 12 {
                    days_from_civil(year + 1, 1, 1)
                } else {
                    days_from_civil(year, month + 1, 1)
                };
                while day >= next_month {
                    day -= 7;
                }
                day
            }
        };
        day * DAY + self.secs
    }
}

/// A cursor over a POSIX `TZ` string.
struct Parser<'a>(&'a [u8]);

impl Parser<'_> {
    fn eat(&mut self, byte: u8) -> Option<()> {
        let (&first, rest) = self.0.split_first()?;
        (first == byte).then(|| self.0 = rest)
    }

    /// A zone abbreviation: `<+0330>` or at least three letters.
    fn name(&mut self) -> Option<()> {
        if self.eat(b'<').is_some() {
            let end = self.0.iter().position(|&b| b == b'>')?;
            self.0 = &self.0[end + 1..];
            return Some(());
        }
        let len = self
            .0
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        (len >= 3).then(|| self.0 = &self.0[len..])
    }

    fn number(&mut self) -> Option<i64> {
        let len = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 || len > 3 {
            return None;
        }
        let text = std::str::from_utf8(&self.0[..len]).ok()?;
        self.0 = &self.0[len..];
        text.parse().ok()
    }

    /// `[+|-]hh[:mm[:ss]]` in seconds (POSIX's sign: west is positive).
    fn offset(&mut self) -> Option<i64> {
        let sign = if self.eat(b'-').is_some() {
            -1
        } else {
            let _ = self.eat(b'+');
            1
        };
        let mut secs = self.number()? * 3600;
        for unit in [60, 1] {
            if self.eat(b':').is_none() {
                break;
            }
            secs += self.number()? * unit;
        }
        Some(sign * secs)
    }

    /// `Jn`, `n` or `Mm.w.d`, then `/time` (02:00 when absent).
    fn rule(&mut self) -> Option<Rule> {
        let day = if self.eat(b'J').is_some() {
            RuleDay::Julian(self.number().filter(|n| (1..=365).contains(n))?)
        } else if self.eat(b'M').is_some() {
            let month = self.number().filter(|n| (1..=12).contains(n))?;
            self.eat(b'.')?;
            let week = self.number().filter(|n| (1..=5).contains(n))?;
            self.eat(b'.')?;
            let weekday = self.number().filter(|n| (0..=6).contains(n))?;
            RuleDay::Month(month, week, weekday)
        } else {
            RuleDay::ZeroBased(self.number().filter(|n| (0..=365).contains(n))?)
        };
        let secs = if self.eat(b'/').is_some() {
            self.offset()?
        } else {
            7200
        };
        Some(Rule { day, secs })
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The (year, month, day) of a day counted from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-07-01 12:00:00 UTC and 2024-01-15 12:00:00 UTC.
    const JULY: i64 = 1_719_835_200;
    const JANUARY: i64 = 1_705_320_000;

    #[test]
    fn dates_round_trip_and_stamps_look_like_pythons() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        for days in [-800_000, -1, 0, 59, 10_000, 19_782, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        // datetime.fromtimestamp(1719835200, timezone(timedelta(hours=2)))
        //     .strftime("%b%d_%H-%M-%S") == 'Jul01_14-00-00'
        assert_eq!(torch_time_stamp(JULY, 7200), "Jul01_14-00-00");
        // ... fromtimestamp(1705323723, timezone(timedelta(hours=-13)))
        //     .strftime("%b%d_%H-%M-%S") == 'Jan15_00-02-03'
        assert_eq!(
            torch_time_stamp(JANUARY + 3723, -13 * 3600),
            "Jan15_00-02-03"
        );
        assert_eq!(
            torch_time_stamp(JANUARY + 3723, -14 * 3600),
            "Jan14_23-02-03"
        );
        assert_eq!(torch_time_stamp(0, 0), "Jan01_00-00-00");
    }

    #[test]
    fn posix_rules_give_standard_and_daylight_time() {
        let new_york = PosixTz::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(new_york.offset(JULY), -4 * 3600);
        assert_eq!(new_york.offset(JANUARY), -5 * 3600);
        // 2024-03-10 02:00 EST = 07:00 UTC starts EDT.
        let start = days_from_civil(2024, 3, 10) * DAY + 7 * 3600;
        assert_eq!(new_york.offset(start - 1), -5 * 3600);
        assert_eq!(new_york.offset(start), -4 * 3600);
        let sydney = PosixTz::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(sydney.offset(JULY), 10 * 3600);
        assert_eq!(sydney.offset(JANUARY), 11 * 3600);
        let tehran = PosixTz::parse("<+0330>-3:30").unwrap();
        assert_eq!(tehran.offset(JULY), 3 * 3600 + 1800);
        assert_eq!(PosixTz::parse("UTC0").unwrap().offset(JULY), 0);
        let julian = PosixTz::parse("XXX0YYY,J60/0,J300/0").unwrap();
        // J60 is March 1 in every year.
        let march1 = days_from_civil(2024, 3, 1) * DAY;
        assert_eq!(julian.offset(march1 - 1), 0);
        assert_eq!(julian.offset(march1), 3600);
        for bad in [
            "",
            "Europe/Berlin",
            "EST",
            "EST5EDT,M13.1.0,M1.1.0",
            "EST5EDT,",
        ] {
            assert_eq!(PosixTz::parse(bad), None, "{bad}");
        }
    }

    /// A version 2 TZif file with one transition (to UTC+1 at 1000 s) and
    /// the footer rule `<+02>-2`.
    fn tzif() -> Vec<u8> {
        let header = |time_size: usize| {
            let mut h = b"TZif2".to_vec();
            h.extend([0; 15]);
            for count in [0u32, 0, 0, 1, 2, 4] {
                h.extend(count.to_be_bytes());
            }
            let mut body = Vec::new();
            match time_size {
                4 => body.extend(1000i32.to_be_bytes()),
                _ => body.extend(1000i64.to_be_bytes()),
            }
            body.push(1); // the transition's type
            for utoff in [0i32, 3600] {
                body.extend(utoff.to_be_bytes());
                body.extend([0, 0]); // not DST, abbreviation 0
            }
            body.extend(b"UTC\0");
            h.extend(body);
            h
        };
        let mut file = header(4);
        file.extend(header(8));
        file.extend(b"\n<+02>-2\n");
        file
    }

    #[test]
    fn zone_files_give_the_offset_before_and_after_their_transitions() {
        let file = tzif();
        assert_eq!(tzif_offset(&file, 999), Some(0));
        // After the last transition the footer rule applies.
        assert_eq!(tzif_offset(&file, 1000), Some(7200));
        assert_eq!(tzif_offset(b"not a zone file", 0), None);
        assert_eq!(tzif_offset(&file[..50], 0), None);
    }

    /// The C library's answer, from `date`, for `TZ=tz`.
    fn date_offset(tz: &str, unix: i64) -> Option<i64> {
        let out = std::process::Command::new("date")
            .env("TZ", tz)
            .args([format!("-d@{unix}"), "+%z".into()])
            .output()
            .ok()
            .filter(|o| o.status.success())?;
        let text = String::from_utf8(out.stdout).ok()?;
        let text = text.trim();
        let sign = if text.starts_with('-') { -1 } else { 1 };
        let hours: i64 = text.get(1..3)?.parse().ok()?;
        let minutes: i64 = text.get(3..5)?.parse().ok()?;
        Some(sign * (hours * 3600 + minutes * 60))
    }

    #[test]
    fn offsets_agree_with_the_c_library() {
        if date_offset("UTC", 0).is_none() {
            eprintln!("skipped: no GNU `date` to compare with");
            return;
        }
        let zones = [
            "UTC",
            "America/New_York",
            "Europe/Berlin",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            ":Pacific/Chatham",
            "EST5EDT,M3.2.0,M11.1.0",
            "<+0330>-3:30",
            "Not/A_Zone",
            "",
        ];
        for tz in zones {
            for unix in [JULY, JANUARY, 0, 4_102_444_800 + 200 * DAY] {
                let ours = utc_offset(Some(OsStr::new(tz)), unix);
                assert_eq!(Some(ours), date_offset(tz, unix), "TZ={tz:?} at {unix}");
            }
        }
    }
}
