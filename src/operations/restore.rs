//! Plain `pg_restore` and `pg_dump | psql` of a database using ims_crawler.
//!
//! pg_dump writes each monthly partition of `crawl_sessions` (and of
//! `session_issues` and `session_errors`) as a table and
//! an ATTACH PARTITION, then (after the data) the partition's own keys and
//! indexes and their ATTACH to the parent's indexes. The parent belongs to
//! the extension, so when a restore re-creates the extension the parent
//! already has its indexes, and ATTACH PARTITION creates the partition's
//! copies of them, under the very names the dump uses. The dump's
//! statements for them would then fail with "already exists" (35 errors for
//! a year of partitions, and `--single-transaction` restores nothing).
//!
//! While a restore runs (row_security off, as pg_dump sets it, and a
//! superuser: see `ims.restoring()`), this utility hook skips exactly those
//! statements: a key or index of a monthly or DEFAULT partition that ATTACH
//! PARTITION already created with that name, and the attachment of such an
//! index to a parent index it is already attached to. Every other statement
//! runs as dumped; outside a restore the hook only forwards.
//!
//! The search index (a materialized view the extension owns) is not in a
//! dump: right after the restore has loaded `ims.issues` (their search
//! vectors included), the hook builds it, so searches are fast from the
//! moment the restore ends, with no manual step.

use std::ffi::CStr;

use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgList;

use crate::db::read_one;
use crate::errors::SpiOk;

static mut PREVIOUS_HOOK: pg_sys::ProcessUtility_hook_type = None;

/// Install the hook (from `_PG_init`). The library is loaded in a restore
/// session as soon as the re-created extension runs its install script.
pub fn install_hook() {
    // SAFETY: called once per backend from _PG_init, before any statement
    // runs; the previous hook is kept and called.
    unsafe {
        PREVIOUS_HOOK = pg_sys::ProcessUtility_hook;
        pg_sys::ProcessUtility_hook = Some(during_restore);
    }
}

/// A statement of a dump that re-creates what ATTACH PARTITION made.
enum DumpedCopy {
    /// `CREATE INDEX name ON ims.table ...`
    Index { table: String, name: String },
    /// `ALTER TABLE ONLY ims.table ADD CONSTRAINT name PRIMARY KEY/UNIQUE ...`
    Key { table: String, name: String },
    /// `ALTER INDEX ims.parent ATTACH PARTITION ims.child`
    IndexAttach { parent: String, child: String },
}

/// Partitions of ims.crawl_sessions, ims.session_issues and
/// ims.session_errors, for the checks below.
macro_rules! session_partition {
    ($rel:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM pg_catalog.pg_inherits p WHERE p.inhrelid = ",
            $rel,
            " AND p.inhparent IN (pg_catalog.to_regclass('ims.crawl_sessions'), ",
            "pg_catalog.to_regclass('ims.session_issues'), pg_catalog.to_regclass('ims.session_errors')))"
        )
    };
}

impl DumpedCopy {
    /// True when the object already exists as ATTACH PARTITION made it.
    fn already_exists(&self) -> bool {
        let (sql, a, b) = match self {
            DumpedCopy::Index { table, name } => (
                concat!(
                    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index x ",
                    "JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid ",
                    "JOIN pg_catalog.pg_inherits h ON h.inhrelid = i.oid ",
                    "WHERE x.indrelid = pg_catalog.to_regclass($1) AND i.relname = $2 AND ",
                    session_partition!("x.indrelid"),
                    ")"
                ),
                table,
                name,
            ),
            DumpedCopy::Key { table, name } => (
                concat!(
                    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c ",
                    "WHERE c.conrelid = pg_catalog.to_regclass($1) AND c.conname = $2 ",
                    "AND c.conparentid <> 0 AND c.contype IN ('p', 'u') AND ",
                    session_partition!("c.conrelid"),
                    ")"
                ),
                table,
                name,
            ),
            DumpedCopy::IndexAttach { parent, child } => (
                concat!(
                    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h ",
                    "JOIN pg_catalog.pg_index x ON x.indexrelid = h.inhrelid ",
                    "WHERE h.inhparent = pg_catalog.to_regclass($1) ",
                    "AND h.inhrelid = pg_catalog.to_regclass($2) AND ",
                    session_partition!("x.indrelid"),
                    ")"
                ),
                parent,
                child,
            ),
        };
        read_one::<bool>(
            sql,
            &[a.as_str().into(), b.as_str().into()],
            "checking a restored partition",
        )
        .unwrap_or(false)
    }
}

/// The same test as `ims.restoring()`, without SQL: row_security off and a
/// superuser.
fn restoring() -> bool {
    // SAFETY: GetConfigOption returns NULL or a NUL-terminated string that
    // we only read here; superuser() reads backend state.
    unsafe {
        let p = pg_sys::GetConfigOption(c"row_security".as_ptr(), true, false);
        !p.is_null() && CStr::from_ptr(p).to_bytes() == b"off" && pg_sys::superuser()
    }
}

/// `ims.name` of a RangeVar in schema ims (pg_dump qualifies every name).
///
/// # Safety
/// `rv` is NULL or a valid RangeVar.
unsafe fn ims_name(rv: *const pg_sys::RangeVar) -> Option<String> {
    if rv.is_null() || (*rv).schemaname.is_null() || (*rv).relname.is_null() {
        return None;
    }
    if CStr::from_ptr((*rv).schemaname).to_bytes() != b"ims" {
        return None;
    }
    let rel = CStr::from_ptr((*rv).relname).to_str().ok()?;
    Some(format!("ims.{}", spi::quote_identifier(rel)))
}

/// True for `COPY ims.issues ... FROM`: a restore loading the issues.
///
/// # Safety
/// `node` is NULL or a valid parse tree node.
unsafe fn loads_issues(node: *mut pg_sys::Node) -> bool {
    if node.is_null() || (*node).type_ != pg_sys::NodeTag::T_CopyStmt {
        return false;
    }
    let s = node.cast::<pg_sys::CopyStmt>();
    (*s).is_from && ims_name((*s).relation).as_deref() == Some("ims.issues")
}

/// What a utility statement is, if it is one of the shapes above.
///
/// # Safety
/// `node` is NULL or a valid parse tree node.
unsafe fn dumped_copy(node: *mut pg_sys::Node) -> Option<DumpedCopy> {
    if node.is_null() {
        return None;
    }
    match (*node).type_ {
        pg_sys::NodeTag::T_IndexStmt => {
            let s = node.cast::<pg_sys::IndexStmt>();
            let table = ims_name((*s).relation)?;
            if (*s).idxname.is_null() {
                return None;
            }
            let name = CStr::from_ptr((*s).idxname).to_str().ok()?.to_string();
            Some(DumpedCopy::Index { table, name })
        }
        pg_sys::NodeTag::T_AlterTableStmt => {
            let s = node.cast::<pg_sys::AlterTableStmt>();
            let target = ims_name((*s).relation)?;
            let cmds = PgList::<pg_sys::AlterTableCmd>::from_pg((*s).cmds);
            if cmds.len() != 1 {
                return None;
            }
            let cmd = cmds.get_ptr(0)?;
            let def = (*cmd).def;
            if def.is_null() {
                return None;
            }
            match (*cmd).subtype {
                pg_sys::AlterTableType::AT_AddConstraint
                    if (*def).type_ == pg_sys::NodeTag::T_Constraint =>
                {
                    let c = def.cast::<pg_sys::Constraint>();
                    let is_key = matches!(
                        (*c).contype,
                        pg_sys::ConstrType::CONSTR_PRIMARY | pg_sys::ConstrType::CONSTR_UNIQUE
                    );
                    if !is_key || (*c).conname.is_null() {
                        return None;
                    }
                    let name = CStr::from_ptr((*c).conname).to_str().ok()?.to_string();
                    Some(DumpedCopy::Key {
                        table: target,
                        name,
                    })
                }
                pg_sys::AlterTableType::AT_AttachPartition
                    if (*s).objtype == pg_sys::ObjectType::OBJECT_INDEX
                        && (*def).type_ == pg_sys::NodeTag::T_PartitionCmd =>
                {
                    let child = ims_name((*def.cast::<pg_sys::PartitionCmd>()).name)?;
                    Some(DumpedCopy::IndexAttach {
                        parent: target,
                        child,
                    })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// What to do with a statement: 0 run it, 1 skip it (a copy that ATTACH
/// PARTITION made), 2 run it, then build the search index.
const RUN: u8 = 0;
const SKIP: u8 = 1;
const RUN_THEN_BUILD_INDEX: u8 = 2;

#[pg_guard]
unsafe extern "C-unwind" fn plan_statement(node: *mut pg_sys::Node) -> u8 {
    if !restoring() {
        return RUN;
    }
    if let Some(copy) = dumped_copy(node) {
        if copy.already_exists() {
            debug1!("ims_crawler: skipped a restored partition key or index that ATTACH PARTITION created");
            return SKIP;
        }
    }
    if loads_issues(node) {
        RUN_THEN_BUILD_INDEX
    } else {
        RUN
    }
}

#[pg_guard]
extern "C-unwind" fn build_search_index() {
    Spi::run("REFRESH MATERIALIZED VIEW ims.mv_search_postings")
        .spi_ok("building the search index of the restored issues");
}

unsafe extern "C-unwind" {
    // pg_sys::standard_ProcessUtility, called without pgrx's FFI guard: an
    // ERROR raised by the statement must reach PostgreSQL unchanged (the
    // guard would turn it into a Rust panic and back, adding a backtrace to
    // its DETAIL).
    #[link_name = "standard_ProcessUtility"]
    fn standard_process_utility_unguarded(
        pstmt: *mut pg_sys::PlannedStmt,
        query_string: *const std::ffi::c_char,
        read_only_tree: bool,
        context: pg_sys::ProcessUtilityContext::Type,
        params: pg_sys::ParamListInfo,
        query_env: *mut pg_sys::QueryEnvironment,
        dest: *mut pg_sys::DestReceiver,
        qc: *mut pg_sys::QueryCompletion,
    );
}

/// The hook. Not `#[pg_guard]`, and it holds nothing that needs dropping:
/// an ERROR from the statement passes through it untouched. Its Rust work
/// runs in the guarded functions above.
#[allow(clippy::too_many_arguments)]
unsafe extern "C-unwind" fn during_restore(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const std::ffi::c_char,
    read_only_tree: bool,
    context: pg_sys::ProcessUtilityContext::Type,
    params: pg_sys::ParamListInfo,
    query_env: *mut pg_sys::QueryEnvironment,
    dest: *mut pg_sys::DestReceiver,
    qc: *mut pg_sys::QueryCompletion,
) {
    let plan = plan_statement((*pstmt).utilityStmt);
    if plan == SKIP {
        return;
    }
    let forward = PREVIOUS_HOOK.unwrap_or(standard_process_utility_unguarded);
    forward(
        pstmt,
        query_string,
        read_only_tree,
        context,
        params,
        query_env,
        dest,
        qc,
    );
    if plan == RUN_THEN_BUILD_INDEX {
        build_search_index();
    }
}
