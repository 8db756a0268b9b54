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
//! While a restore runs (a superuser session set up as every dump sets it:
//! row_security and check_function_bodies off, an empty search_path), this
//! utility hook skips exactly those statements: a key or index of a monthly
//! or DEFAULT partition that ATTACH PARTITION already created with that
//! name *and that very definition*, and the attachment of such an index to
//! a parent index it is already attached to. Every other statement runs as
//! written (a superuser's own conflicting DDL fails as it would without
//! the extension); outside a restore the hook only forwards.
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
    /// True when the object already exists as ATTACH PARTITION made it,
    /// exactly as `statement` (the dump's text) would create it: a
    /// statement that differs in any way runs, and fails if it must.
    fn already_exists(&self, statement: &str) -> bool {
        let (sql, a, b) = match self {
            DumpedCopy::Index { table, name } => (
                concat!(
                    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index x ",
                    "JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid ",
                    "JOIN pg_catalog.pg_inherits h ON h.inhrelid = i.oid ",
                    "WHERE x.indrelid = pg_catalog.to_regclass($1) AND i.relname = $2 ",
                    "AND pg_catalog.pg_get_indexdef(i.oid) = $3 AND ",
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
                    "AND c.conparentid <> 0 AND c.contype IN ('p', 'u') ",
                    "AND pg_catalog.right($3, pg_catalog.length(pg_catalog.pg_get_constraintdef(c.oid)) + 1) ",
                    "    = ' ' || pg_catalog.pg_get_constraintdef(c.oid) AND ",
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
            &[a.as_str().into(), b.as_str().into(), statement.into()],
            "checking a restored partition",
        )
        .unwrap_or(false)
    }
}

/// A superuser session set up as pg_dump's scripts and pg_restore set
/// theirs: row_security off (the test of `ims.restoring()`), and also
/// check_function_bodies off and an empty search_path, which every dump
/// sets and an interactive session hardly ever has.
fn restoring() -> bool {
    fn setting(name: &CStr) -> Option<&'static [u8]> {
        // SAFETY: GetConfigOption returns NULL or a NUL-terminated string
        // that stays valid until the setting changes; read at once.
        unsafe {
            let p = pg_sys::GetConfigOption(name.as_ptr(), true, false);
            (!p.is_null()).then(|| CStr::from_ptr(p).to_bytes())
        }
    }
    setting(c"row_security") == Some(b"off")
        && setting(c"check_function_bodies") == Some(b"off")
        && matches!(setting(c"search_path"), Some(b"" | b"\"\""))
        // SAFETY: reads backend state.
        && unsafe { pg_sys::superuser() }
}

/// The text of the statement being run, without its trailing `;`.
///
/// # Safety
/// `pstmt` and `query_string` are those PostgreSQL passed to the hook.
unsafe fn statement_text(
    pstmt: *const pg_sys::PlannedStmt,
    query_string: *const std::ffi::c_char,
) -> Option<String> {
    if query_string.is_null() {
        return None;
    }
    let all = CStr::from_ptr(query_string).to_str().ok()?;
    let from = usize::try_from((*pstmt).stmt_location).unwrap_or(0);
    let len = usize::try_from((*pstmt).stmt_len).unwrap_or(0);
    let rest = all.get(from..)?;
    let text = if len == 0 { rest } else { rest.get(..len)? };
    Some(text.trim().trim_end_matches(';').trim_end().to_string())
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
unsafe extern "C-unwind" fn plan_statement(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const std::ffi::c_char,
) -> u8 {
    if !restoring() {
        return RUN;
    }
    let node = (*pstmt).utilityStmt;
    if let (Some(copy), Some(text)) = (dumped_copy(node), statement_text(pstmt, query_string)) {
        if copy.already_exists(&text) {
            // Shown to an interactive session; a restore sets
            // client_min_messages to warning.
            notice!("ims_crawler: skipped, ATTACH PARTITION already made exactly this: {text}");
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
    let plan = plan_statement(pstmt, query_string);
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
