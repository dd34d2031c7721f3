//! Time lines: `Last update: Tue, 26/07/2016 - 20:33` and friends.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde::{Serialize, Serializer};

/// A time as a story gives it: an instant, or a date with no time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoryTime {
    Instant(DateTime<FixedOffset>),
    Date(NaiveDate),
}

impl Serialize for StoryTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            StoryTime::Instant(t) => s.serialize_str(&t.to_rfc3339()),
            StoryTime::Date(d) => s.serialize_str(&d.format("%Y-%m-%d").to_string()),
        }
    }
}

/// The labels that make a line a time line, and whether it is an update.
const LABELS: &[(&str, bool)] =
    &[("last updated:", true), ("last update:", true), ("updated:", true), ("published:", false), ("posted:", false)];

/// A recognised time line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeLine {
    pub time: StoryTime,
    pub is_update: bool,
}

/// Reads a time line, or `None` when the line is not one.
pub fn time_line(line: &str, tz: chrono_tz::Tz) -> Option<TimeLine> {
    let lower = line.trim().to_lowercase();
    let (label, is_update) = LABELS.iter().find(|(label, _)| lower.starts_with(label))?;
    let value = line.trim()[label.len()..].trim();
    let time = parse_time(value, tz)?;
    Some(TimeLine { time, is_update: *is_update })
}

/// Reads a time value in one of the formats we know.
pub fn parse_time(value: &str, tz: chrono_tz::Tz) -> Option<StoryTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(StoryTime::Instant(t));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(value) {
        return Some(StoryTime::Instant(t));
    }
    // `Tue, 26/07/2016 - 20:33`: day first, no zone.
    let without_weekday = value.split_once(", ").map_or(value, |(_, rest)| rest);
    if let Ok(naive) = NaiveDateTime::parse_from_str(without_weekday, "%d/%m/%Y - %H:%M") {
        return local(naive, tz);
    }
    None
}

fn local(naive: NaiveDateTime, tz: chrono_tz::Tz) -> Option<StoryTime> {
    let t = tz.from_local_datetime(&naive).earliest()?;
    Some(StoryTime::Instant(t.fixed_offset()))
}
