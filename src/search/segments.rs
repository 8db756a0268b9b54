//! Segments: the search index kept current between rebuilds of its base.
//!
//! The base (`ims.mv_search_postings`) is built from every issue: at a
//! million issues that takes tens of seconds, too long to run for every
//! write. Between rebuilds, each round of `ims.update_search_index()` (the
//! search indexer runs one every 0.5 s while writes come: `indexer`) writes the issues
//! pending since the newest build into a segment, rows of
//! `ims_index.search_segments` in the base's format, with that build's
//! snapshot and its place in the order of builds (`Meta::seq`), plus the
//! issues it read (`issues:`). Searches read the base and every segment
//! built after it; in each, the issues that a newer segment holds, and the
//! pending ones, are skipped (a later build holds a later copy).
//!
//! Rounds also merge the two newest segments while the older holds at most
//! twice the issues of the newer (so there are about log2 of them), by
//! reading their issues' current rows again; the merged segment takes the
//! newer one's place and snapshot. Merges stop at a size past which the
//! base is rebuilt instead: when the segments hold as many issues as the
//! base, the indexer rebuilds the base in a worker of its own, and the
//! rebuild drops the segments built before it (`drop_replaced`).
//! Builds are ordered by their snapshots (`Snapshot::order`).

use std::time::Duration;

use pgrx::prelude::*;

use crate::db::read_one;
use crate::errors::SpiOk;
use crate::search::index_build::{
    any_pending, build_id, build_lists, current_meta, pending_args, pending_predicate, rows_of,
    system_id, take_snapshot, Built, Meta, Snapshot, BUILD_COLUMNS,
};
use crate::search::list_cache::COVERS_KEY;
use crate::search::list_format::{decode, ListBuilder};
use crate::search::locks::{try_take, IndexLock};

/// The statistics rows of the segments, oldest first.
const SEGMENT_STATISTICS: &str =
    "SELECT segment, postings FROM ims_index.search_segments WHERE term = '' ORDER BY segment";

/// Merges stop at segments of this many issues, or an eighth of the base if
/// more (a larger merge would keep new writes waiting too long).
const MERGE_LIMIT: u64 = 65_536;
/// Past this many segments the two newest are merged whatever their sizes.
const MAX_SEGMENTS: usize = 16;

/// The segments built after `base` (a segment a rebuild replaced may
/// linger until deleted), oldest first.
fn segments_after(base: &Meta) -> Vec<Meta> {
    Spi::connect(|c| {
        c.select(SEGMENT_STATISTICS, None, &[])
            .spi_ok("reading the search index's segments")
            .filter_map(|r| Meta::decode(&r.get::<Vec<u8>>(2).ok()??))
            .filter(|m| m.seq > base.seq)
            .collect()
    })
}

/// The snapshot of the newest build, base or segment (None: the base is
/// not built): issues it did not see committed are pending.
pub fn newest_snapshot() -> Option<Snapshot> {
    let base = current_meta()?;
    let newest = segments_after(&base).pop().map(|m| m.snapshot);
    Some(newest.unwrap_or(base.snapshot))
}

/// Delete the segments built before the base (its rebuild holds their
/// issues as they are now or later).
pub fn drop_replaced() {
    let Some(base) = current_meta() else { return };
    // Rows a merge is replacing are left to the next round: searches skip
    // them already.
    Spi::run_with_args(
        "DELETE FROM ims_index.search_segments WHERE (term, segment) IN (
           SELECT term, segment FROM ims_index.search_segments WHERE segment <= $1
              FOR UPDATE SKIP LOCKED)",
        &[(base.seq as i64).into()],
    )
    .spi_ok("dropping replaced segments");
}

/// Write a segment from what a build read: its lists, statistics row and
/// the issues it holds. Its `docs` and `build_id` come from `built`.
fn write_segment(mut meta: Meta, built: Built, holds: &[i64]) {
    meta.docs = built.docs;
    meta.build_id = build_id();
    meta.system_id = system_id();
    let mut issues = ListBuilder::default();
    for &pk in holds {
        issues.push(pk as u64, 0);
    }
    let mut rows = rows_of(&meta, built.lists);
    rows.push((COVERS_KEY.to_string(), issues.finish()));
    let (terms, postings): (Vec<String>, Vec<Vec<u8>>) = rows.into_iter().unzip();
    Spi::run_with_args(
        "INSERT INTO ims_index.search_segments (segment, term, postings)
         SELECT $1, t, p FROM unnest($2::text[], $3::bytea[]) AS u(t, p)",
        &[(meta.seq as i64).into(), terms.into(), postings.into()],
    )
    .spi_ok("writing a segment");
}

/// Index the issues pending since `newest` into a new segment; how many
/// it holds (0: none was committed, nothing written).
fn add_segment(base: &Meta, newest: &Snapshot) -> u64 {
    let (snapshot, seq) = take_snapshot();
    // Nothing committed since `newest` was taken: what the read finds
    // stays pending until a later round.
    if seq <= newest.order() {
        return 0;
    }
    let sql = format!(
        "{BUILD_COLUMNS} WHERE {} AND i.issue_pk >= 0 ORDER BY issue_pk",
        pending_predicate("$1", "$2", "$3")
    );
    let built = build_lists(
        &sql,
        &pending_args(Some(newest)),
        base.avg_length.max(1.0) as f32,
    );
    if built.read.is_empty() {
        return 0;
    }
    let holds = built.read.clone();
    let n = holds.len() as u64;
    let meta = Meta {
        snapshot,
        seq,
        ..base.clone()
    };
    write_segment(meta, built, &holds);
    n
}

/// The issues segments `older` and `newer` hold, ascending.
fn held_by(segments: [u64; 2]) -> Vec<i64> {
    let lists: Vec<Vec<i64>> =
        Spi::connect(|c| {
            c.select(
            "SELECT postings FROM ims_index.search_segments WHERE term = $1 AND segment = ANY ($2)",
            None,
            &[COVERS_KEY.into(), segments.map(|s| s as i64).to_vec().into()],
        )
        .spi_ok("reading a segment")
        .filter_map(|r| r.get::<&[u8]>(1).ok()?.map(|b| decode(b).postings().docs))
        .collect()
        });
    crate::search::doc_sets::union(lists)
}

/// Merge two adjacent segments into one in the newer's place: their
/// issues' current rows read again. How many issues it holds.
fn merge(base: &Meta, older: &Meta, newer: &Meta) -> u64 {
    let holds = held_by([older.seq, newer.seq]);
    let built = build_lists(
        &format!("{BUILD_COLUMNS} WHERE issue_pk = ANY ($1) ORDER BY issue_pk"),
        &[holds.clone().into()],
        base.avg_length.max(1.0) as f32,
    );
    Spi::run_with_args(
        "DELETE FROM ims_index.search_segments WHERE segment = ANY ($1)",
        &[vec![older.seq as i64, newer.seq as i64].into()],
    )
    .spi_ok("merging segments");
    write_segment(newer.clone(), built, &holds);
    holds.len() as u64
}

/// What one round of `update_search_index` did and found.
pub struct Round {
    pub indexed: u64,
    pub merged: u64,
    pub segments: u64,
    pub segment_issues: u64,
    pub base_issues: u64,
    /// The segments hold as many issues as the base: rebuild it.
    pub rebuild_base: bool,
}

/// One round: build the base if it has never been built, else index the
/// pending issues into a segment and merge segments. Rounds run one at a
/// time (`IndexLock::Round`): None when another round kept it for
/// `patience`.
pub fn update(patience: Duration) -> Option<Round> {
    crate::db::require_writable("ims.update_search_index");
    let mut round = Round {
        indexed: 0,
        merged: 0,
        segments: 0,
        segment_issues: 0,
        base_issues: 0,
        rebuild_base: false,
    };
    if current_meta().is_none() {
        let any = read_one::<bool>(
            "SELECT EXISTS (SELECT FROM ims.issues WHERE search_vector IS NOT NULL)",
            &[],
            "looking for issues",
        );
        if any == Some(true) {
            crate::operations::views::refresh("ims.mv_search_postings");
            round.base_issues = current_meta().map_or(0, |m| m.docs);
            round.indexed = round.base_issues;
        }
        return Some(round);
    }
    if !try_take(IndexLock::Round, false, patience) {
        return None;
    }
    let Some(base) = current_meta() else {
        return Some(round);
    };
    drop_replaced();
    let mut segments = segments_after(&base);
    let newest = segments
        .last()
        .map_or(&base.snapshot, |m| &m.snapshot)
        .clone();
    if any_pending(Some(&newest)) {
        round.indexed = add_segment(&base, &newest);
        if round.indexed > 0 {
            segments = segments_after(&base);
        }
    }
    let limit = MERGE_LIMIT.max(base.docs / 8);
    while let [.., older, newer] = segments.as_slice() {
        let small = older.docs <= 2 * newer.docs && older.docs + newer.docs <= limit;
        if !(small || segments.len() > MAX_SEGMENTS) {
            break;
        }
        round.merged += merge(&base, older, newer);
        segments = segments_after(&base);
    }
    round.segments = segments.len() as u64;
    round.segment_issues = segments.iter().map(|m| m.docs).sum();
    round.base_issues = base.docs;
    round.rebuild_base = round.segment_issues >= base.docs.max(1);
    Some(round)
}

/// How long `ims.update_search_index()` waits for another round: the
/// session's `lock_timeout` when set, else 30 s (a round of the indexer
/// takes well under a second).
fn round_patience() -> Duration {
    // SAFETY: a plain read of the lock_timeout setting.
    match u64::try_from(unsafe { pg_sys::LockTimeout }) {
        Ok(ms) if ms > 0 => Duration::from_millis(ms),
        _ => Duration::from_secs(30),
    }
}

/// One round of keeping the search index current, as the search indexer
/// runs every 0.5 s while writes come: issues written since the newest build go into a new
/// segment, small segments are merged (the base is built first if it never
/// was). Returns what it did.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn update_search_index() -> TableIterator<
    'static,
    (
        name!(indexed, i64),
        name!(merged, i64),
        name!(segments, i64),
        name!(segment_issues, i64),
        name!(base_issues, i64),
    ),
> {
    let patience = round_patience();
    let Some(r) = update(patience) else {
        crate::errors::raise(
            PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE,
            format!(
                "another round of the search index kept it busy for {} ms",
                patience.as_millis()
            ),
            Some("Run it again; nothing was changed."),
        )
    };
    TableIterator::once((
        r.indexed as i64,
        r.merged as i64,
        r.segments as i64,
        r.segment_issues as i64,
        r.base_issues as i64,
    ))
}

/// The search index's sources: the base and each segment after it, with
/// its issues, terms and size.
#[pg_extern(stable, parallel_safe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
pub fn search_index_segments() -> TableIterator<
    'static,
    (
        name!(segment, i64),
        name!(issues, i64),
        name!(terms, i64),
        name!(bytes, i64),
    ),
> {
    let base = current_meta();
    let rows: Vec<(i64, i64, i64, i64)> = Spi::connect(|c| {
        c.select(
            "SELECT 0::bigint, (SELECT postings FROM ims.mv_search_postings WHERE term = ''),
                    (SELECT count(*) FROM ims.mv_search_postings WHERE term NOT LIKE 'top:%') - 1,
                    pg_catalog.pg_total_relation_size('ims.mv_search_postings')
             UNION ALL
             SELECT s.segment, m.postings,
                    count(*) FILTER (WHERE s.term NOT LIKE 'top:%' AND s.term <> 'issues:') - 1,
                    sum(pg_catalog.octet_length(s.postings))::bigint
               FROM ims_index.search_segments s
               JOIN ims_index.search_segments m ON m.segment = s.segment AND m.term = ''
              GROUP BY s.segment, m.postings ORDER BY 1",
            None,
            &[],
        )
        .spi_ok("reading the search index's segments")
        .filter_map(|r| {
            let meta = Meta::decode(&r.get::<Vec<u8>>(2).ok()??)?;
            let segment = r.get::<i64>(1).ok()??;
            let current = base
                .as_ref()
                .is_some_and(|b| segment == 0 || meta.seq > b.seq);
            current.then(|| {
                (
                    segment,
                    meta.docs as i64,
                    r.get::<i64>(3).ok().flatten().unwrap_or(0),
                    r.get::<i64>(4).ok().flatten().unwrap_or(0),
                )
            })
        })
        .collect()
    });
    TableIterator::new(rows)
}
