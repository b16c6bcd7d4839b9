//! Journal tests on real files in a temp directory.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
};

use super::*;

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("inplay-journal-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// Names of the files in the directory, sorted.
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn score(seq: u64) -> Record {
    Record::Score {
        match_id: "m1".into(),
        home: 1,
        away: 0,
        period: "Q1".into(),
        status: "live".into(),
        seq,
        at_ms: 1_700_000_000_000,
    }
}

fn scores(seqs: std::ops::Range<u64>) -> Vec<Record> {
    seqs.map(score).collect()
}

fn seqs(records: &[Record]) -> Vec<u64> {
    records
        .iter()
        .map(|r| match r {
            Record::Score { seq, .. } => *seq,
            other => panic!("not a score: {other:?}"),
        })
        .collect()
}

/// Reads and commits everything, in chunks of `max`.
fn drain(journal: &mut Journal, max: usize) -> Vec<u64> {
    let mut out = Vec::new();
    while !journal.is_empty() {
        let chunk = journal.read(max).expect("read");
        assert!(chunk.lines > 0, "pending records but nothing read");
        out.extend(seqs(&chunk.records));
        journal.commit(&chunk);
    }
    out
}

#[test]
fn appends_read_back_in_order_and_empty_when_committed() {
    let dir = TempDir::new();
    let mut journal = Journal::open(dir.path(), 1 << 20).expect("open");
    assert!(journal.is_empty() && journal.bytes() == 0);
    let appended = journal.append(&scores(0..5));
    assert_eq!((appended.written, appended.dropped), (5, 0));
    journal.append(&scores(5..8));
    assert_eq!(journal.records(), 8);
    assert!(journal.bytes() > 0);

    let first = journal.read(3).expect("read");
    assert_eq!(seqs(&first.records), [0, 1, 2]);
    // Appending while reading is fine: new lines come after.
    journal.append(&scores(8..10));
    journal.commit(&first);
    assert_eq!(journal.records(), 7);
    assert_eq!(drain(&mut journal, 4), (3..10).collect::<Vec<_>>());
    assert_eq!(journal.bytes(), 0);
    assert!(
        dir.files().is_empty(),
        "drained journal leaves no files: {:?}",
        dir.files()
    );
}

#[test]
fn rotates_segments_and_deletes_consumed_ones() {
    let dir = TempDir::new();
    let mut journal = Journal::open_with(dir.path(), 1 << 20, 200).expect("open");
    for i in 0..10 {
        journal.append(&scores(i * 3..i * 3 + 3));
    }
    let segments = dir.files().iter().filter(|f| f.ends_with(".jsonl")).count();
    assert!(segments > 3, "tiny segments rotate: {:?}", dir.files());
    let mut read = Vec::new();
    while read.len() < 15 {
        let chunk = journal.read(4).expect("read");
        read.extend(seqs(&chunk.records));
        journal.commit(&chunk);
    }
    let left = dir.files().iter().filter(|f| f.ends_with(".jsonl")).count();
    assert!(left < segments, "consumed segments are deleted");
    read.extend(drain(&mut journal, 4));
    assert_eq!(read, (0..30).collect::<Vec<_>>());
    assert!(dir.files().is_empty());
}

#[test]
fn reopened_journal_replays_only_what_was_not_committed() {
    let dir = TempDir::new();
    {
        let mut journal = Journal::open_with(dir.path(), 1 << 20, 300).expect("open");
        journal.append(&scores(0..10));
        journal.append(&scores(10..20));
        let chunk = journal.read(7).expect("read");
        journal.commit(&chunk);
        // Read but never committed: must come back after a restart.
        let _ = journal.read(5).expect("read");
    }
    let mut journal = Journal::open_with(dir.path(), 1 << 20, 300).expect("reopen");
    assert_eq!(journal.records(), 13);
    journal.append(&scores(20..22));
    assert_eq!(drain(&mut journal, 5), (7..22).collect::<Vec<_>>());

    // And an untouched journal replays whole.
    journal.append(&scores(0..4));
    drop(journal);
    let mut journal = Journal::open(dir.path(), 1 << 20).expect("reopen");
    assert_eq!(drain(&mut journal, 100), [0, 1, 2, 3]);
}

#[test]
fn over_max_bytes_records_are_dropped_and_counted() {
    let dir = TempDir::new();
    let line = serde_json::to_vec(&score(0)).expect("json").len() as u64 + 1;
    let mut journal = Journal::open(dir.path(), line * 3 + line / 2).expect("open");
    let appended = journal.append(&scores(0..2));
    assert_eq!((appended.written, appended.dropped), (2, 0));
    let appended = journal.append(&scores(2..5));
    assert_eq!((appended.written, appended.dropped), (1, 2));
    assert!(journal.bytes() <= line * 3 + line / 2);
    assert_eq!(drain(&mut journal, 10), [0, 1, 2]);
    // Room again once drained.
    assert_eq!(journal.append(&scores(5..7)).written, 2);

    let off = TempDir::new();
    let mut journal = Journal::open(off.path(), 0).expect("open");
    let appended = journal.append(&scores(0..3));
    assert_eq!((appended.written, appended.dropped), (0, 3));
    assert!(journal.is_empty());
}

#[test]
fn torn_tail_is_cut_and_unreadable_lines_are_skipped() {
    let dir = TempDir::new();
    {
        let mut journal = Journal::open(dir.path(), 1 << 20).expect("open");
        journal.append(&scores(0..2));
    }
    let segment = dir.path().join(segment_name(FIRST_ID));
    let mut bytes = fs::read(&segment).expect("segment");
    bytes.extend_from_slice(b"not json\n");
    let good = serde_json::to_vec(&score(2)).expect("json");
    bytes.extend_from_slice(&good);
    bytes.push(b'\n');
    bytes.extend_from_slice(&good[..good.len() / 2]); // a crash mid-append
    fs::write(&segment, bytes).expect("write");

    let mut journal = Journal::open(dir.path(), 1 << 20).expect("reopen");
    assert_eq!(
        journal.records(),
        4,
        "the torn line is cut, the bad one counted"
    );
    journal.append(&scores(3..4));
    let chunk = journal.read(10).expect("read");
    assert_eq!(chunk.unreadable, 1);
    assert_eq!(seqs(&chunk.records), [0, 1, 2, 3]);
    journal.commit(&chunk);
    assert!(journal.is_empty());
}

#[test]
fn prepend_puts_older_records_first() {
    let dir = TempDir::new();
    let mut journal = Journal::open(dir.path(), 1 << 20).expect("open");
    journal.append(&scores(5..8));
    journal.prepend(&scores(0..5));
    drop(journal);
    let mut journal = Journal::open(dir.path(), 1 << 20).expect("reopen");
    assert_eq!(drain(&mut journal, 3), (0..8).collect::<Vec<_>>());
    // Into an empty journal it is a plain append.
    journal.prepend(&scores(0..2));
    assert_eq!(drain(&mut journal, 3), [0, 1]);
}
