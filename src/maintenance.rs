//! A record of maintenance runs (aggregations, refreshes, cleanups), so
//! monitoring can tell when each last ran.

use pgrx::prelude::*;

use crate::errors::SpiOk;

/// Note that maintenance task `task` just ran, with optional details.
pub fn record_run(task: &str, detail: Option<pgrx::JsonB>) {
    Spi::run_with_args(
        "INSERT INTO ims.maintenance_runs (task, detail) VALUES ($1, coalesce($2, '{}'::jsonb))",
        &[task.into(), detail.into()],
    )
    .spi_ok("recording a maintenance run");
}
