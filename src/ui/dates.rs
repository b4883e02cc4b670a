//! Dates as people read them, in the UI language and local time (design: "today 14:05",
//! "yesterday 09:12", "30 Nov 2026" / "今天 14:05", "昨天 09:12", "2026年11月30日").

use time::UtcOffset;

use crate::clock::{at_offset, local_offset};

/// `ms` (milliseconds since the epoch) for people, relative to now, in local time.
pub fn human_date(ms: i64, locale: &str) -> String {
    format_relative(ms, crate::metadata::ImageMeta::now_ms(), local_offset(), locale)
}

/// `ms` relative to `now_ms`, both shown at `offset`: today and yesterday by name with
/// the time, any other day as a date.
pub fn format_relative(ms: i64, now_ms: i64, offset: UtcOffset, locale: &str) -> String {
    let (Some(then), Some(now)) = (at_offset(ms, offset), at_offset(now_ms, offset)) else {
        return String::new();
    };
    let chinese = locale.starts_with("zh");
    let clock = format!("{:02}:{:02}", then.hour(), then.minute());
    let days_ago = now.date().to_julian_day() - then.date().to_julian_day();
    match (days_ago, chinese) {
        (0, false) => format!("today {clock}"),
        (0, true) => format!("今天 {clock}"),
        (1, false) => format!("yesterday {clock}"),
        (1, true) => format!("昨天 {clock}"),
        (_, false) => format!("{} {} {}", then.day(), month_abbreviation(then.month()), then.year()),
        (_, true) => format!("{}年{}月{}日", then.year(), u8::from(then.month()), then.day()),
    }
}

fn month_abbreviation(month: time::Month) -> &'static str {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES[usize::from(u8::from(month)).saturating_sub(1).min(11)]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// 2026-11-30 14:05 UTC, in ms.
    const NOW: i64 = 1_796_047_500_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn today_yesterday_and_older_days_in_both_languages() {
        let utc = UtcOffset::UTC;
        assert_eq!(format_relative(NOW, NOW, utc, "en"), "today 14:05");
        assert_eq!(format_relative(NOW, NOW, utc, "zh-CN"), "今天 14:05");
        assert_eq!(format_relative(NOW - 20 * HOUR, NOW, utc, "en"), "yesterday 18:05");
        assert_eq!(format_relative(NOW - 20 * HOUR, NOW, utc, "zh-CN"), "昨天 18:05");
        assert_eq!(format_relative(NOW - 72 * HOUR, NOW, utc, "en"), "27 Nov 2026");
        assert_eq!(format_relative(NOW - 72 * HOUR, NOW, utc, "zh-CN"), "2026年11月27日");
    }

    #[test]
    fn days_are_counted_in_local_time() {
        // 14:05 UTC is 22:05 in Beijing; 9 hours later it is the next day there, still
        // the same day in UTC.
        let beijing = UtcOffset::from_hms(8, 0, 0).unwrap();
        assert_eq!(format_relative(NOW, NOW, beijing, "zh-CN"), "今天 22:05");
        assert_eq!(format_relative(NOW, NOW + 9 * HOUR, beijing, "zh-CN"), "昨天 22:05");
        assert_eq!(
            format_relative(NOW, NOW + 9 * HOUR, UtcOffset::UTC, "en"),
            "today 14:05"
        );
    }
}
