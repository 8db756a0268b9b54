//! A record of maintenance runs (aggregations, refreshes, cleanups) in the
//! audit log, so monitoring can tell when each last ran.

use pgrx::prelude::*;

use crate::errors::SpiOk;

/// Note that maintenance task `task` just ran, with optional details.
pub fn record_run(task: &str, detail: Option<pgrx::JsonB>) {
    Spi::run_with_args(
        "INSERT INTO ims.audit_log (action, table_name, new_values) \
         VALUES ('MAINTENANCE', $1, coalesce($2, '{}'::jsonb))",
        &[task.into(), detail.into()],
    )
    .spi_ok("recording a maintenance run");
}
