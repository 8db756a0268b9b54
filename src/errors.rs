//! Errors a caller can act on: a SQLSTATE that fits and a message naming
//! what was wrong. Internal failures (SPI) keep pgrx's default reporting.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// Raise an ERROR with `code`, `message` and an optional hint. Never returns.
pub fn raise(code: PgSqlErrorCode, message: impl Into<String>, hint: Option<&str>) -> ! {
    let mut report = ErrorReport::new(code, message.into(), "ims_crawler");
    if let Some(h) = hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

/// 22023: an argument has a value the function does not accept.
pub fn invalid_parameter(message: impl Into<String>) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        message,
        None,
    )
}

/// 22004: a required argument is NULL.
pub fn null_argument(name: &str) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
        format!("{name} must not be NULL"),
        None,
    )
}

/// 23503 (foreign_key_violation): a crawl session or ims user that does
/// not exist, or that the caller may not see (the two read alike, so an
/// error reveals nothing). Every function reports either this way, as the
/// tables' foreign keys do for plain SQL; clients map it to "not found".
pub fn does_not_exist(message: impl Into<String>, hint: Option<&str>) -> ! {
    raise(PgSqlErrorCode::ERRCODE_FOREIGN_KEY_VIOLATION, message, hint)
}

/// 42501: the caller may not do this.
pub fn permission_denied(message: impl Into<String>) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
        message,
        None,
    )
}

/// Unwrap an SPI result; an SPI failure is an internal error, not user input.
pub trait SpiOk<T> {
    fn spi_ok(self, what: &str) -> T;
}

impl<T, E: std::fmt::Display> SpiOk<T> for Result<T, E> {
    fn spi_ok(self, what: &str) -> T {
        match self {
            Ok(v) => v,
            Err(e) => raise(
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                format!("ims_crawler: {what} failed: {e}"),
                None,
            ),
        }
    }
}

/// Read a value SQL guarantees (a NOT NULL column, a count, a key): NULL
/// there is a bug, reported as an internal error naming what was read,
/// never silently turned into 0 or an empty string.
pub trait SpiValue<T> {
    fn value(self, what: &str) -> T;
}

impl<T, E: std::fmt::Display> SpiValue<T> for Result<Option<T>, E> {
    fn value(self, what: &str) -> T {
        match self.spi_ok(what) {
            Some(v) => v,
            None => raise(
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                format!("ims_crawler: {what}: unexpected NULL"),
                None,
            ),
        }
    }
}
