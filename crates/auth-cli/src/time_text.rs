//! Times as people and scripts read them: `4:12` left, `2025-06-01T12:00:00.000Z`.

use std::time::Duration;

use auth_core::UnixMillis;

/// A time left as `m:ss` (or `h:mm:ss`), rounded up: it shows `0:00` only once the
/// time is up, never while a second is still left to use.
pub(crate) fn time_left(remaining: Duration) -> String {
    let mut seconds = remaining.as_secs();
    if remaining.subsec_nanos() > 0 {
        seconds = seconds.saturating_add(1);
    }
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes}:{seconds:02}")
    }
}

/// A moment in RFC 3339, UTC, to the millisecond: `2025-06-01T12:00:00.000Z`.
pub(crate) fn rfc3339(moment: UnixMillis) -> String {
    let millis = moment.as_millis();
    let (days, millis_of_day) = (millis / 86_400_000, millis % 86_400_000);
    let (year, month, day) = civil_from_days(days);
    let seconds_of_day = millis_of_day / 1000;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60,
        millis_of_day % 1000
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_rounds_up_and_grows_an_hour_field() {
        assert_eq!(time_left(Duration::from_secs(300)), "5:00");
        assert_eq!(time_left(Duration::from_millis(299_001)), "5:00");
        assert_eq!(time_left(Duration::from_millis(252_000)), "4:12");
        assert_eq!(time_left(Duration::from_millis(1)), "0:01");
        assert_eq!(time_left(Duration::ZERO), "0:00");
        assert_eq!(time_left(Duration::from_secs(3 * 3600 + 62)), "3:01:02");
    }

    #[test]
    fn rfc3339_matches_known_moments() {
        assert_eq!(rfc3339(UnixMillis::EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339(UnixMillis::from_millis(951_782_400_000)),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            rfc3339(UnixMillis::from_millis(1_700_000_000_123)),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            rfc3339(UnixMillis::from_millis(4_102_444_799_999)),
            "2099-12-31T23:59:59.999Z"
        );
    }
}
