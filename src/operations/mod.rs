//! What a DBA and cron run: statistics, retention, monthly partitions,
//! materialized view refreshes, and the hook that makes plain restores work.
//! Every maintenance run is recorded in the audit log (`record_run`), so
//! `ims.health` can tell when each last ran.

use pgrx::prelude::*;

use crate::errors::SpiOk;

pub mod partitions;
pub mod restore;
pub mod retention;
pub mod stats;
pub mod views;

/// Note that maintenance task `task` just ran, with optional details.
pub fn record_run(task: &str, detail: Option<pgrx::JsonB>) {
    Spi::run_with_args(
        "INSERT INTO ims.audit_log (action, table_name, new_values) \
         VALUES ('MAINTENANCE', $1, coalesce($2, '{}'::jsonb))",
        &[task.into(), detail.into()],
    )
    .spi_ok("recording a maintenance run");
}
