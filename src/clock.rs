//! The local time zone, read once at start, and calendar days in it.

use std::sync::OnceLock;

use time::{OffsetDateTime, UtcOffset};

static LOCAL_OFFSET: OnceLock<UtcOffset> = OnceLock::new();

/// Reads the local UTC offset once. Call it before any thread starts: the `time` crate
/// refuses to read it in a multi-threaded process (the C library's time zone is not
/// thread-safe), and dates would then be in UTC.
pub fn init_local_offset() {
    let offset = UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC);
    let _ = LOCAL_OFFSET.set(offset);
}

/// The local offset read by [`init_local_offset`] (UTC if it was not read).
pub fn local_offset() -> UtcOffset {
    LOCAL_OFFSET.get().copied().unwrap_or(UtcOffset::UTC)
}

/// `ms` (milliseconds since the epoch) as a date and time at `offset`.
pub fn at_offset(ms: i64, offset: UtcOffset) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| t.to_offset(offset))
        .ok()
}
