//! The spill journal: records that did not fit in memory while PostgreSQL was slow or away, kept
//! on disk in arrival order until they are written.
//!
//! The journal is a directory of append-only segment files, `<id>.jsonl` (20-digit ids, read in
//! id order), each holding JSON lines of [`Record`]. New lines go to the newest segment, which is
//! fsynced after every append; a full segment is closed and the next one started, and segments
//! whose every record is in PostgreSQL are deleted, so the disk holds about what is still pending.
//! The file `cursor` remembers how far the writer got (segment id and byte offset), so that a
//! restart replays only what was not committed yet. Once everything is committed the directory is
//! emptied.
//!
//! The journal never holds more than `max_bytes` bytes of segment files: a record that would pass
//! that bound is not written, and the caller counts it as dropped. `max_bytes = 0` turns spilling
//! off.
//!
//! Crash safety: a torn last line (a crash in the middle of an append) is cut off when the journal
//! is opened; a line that cannot be read back is skipped and reported. The cursor is written by
//! rename after each committed batch but not fsynced, so a crash can at worst replay a batch that
//! was already committed (at-least-once), never skip one.

use std::{
    collections::VecDeque,
    fs::{self, File},
    io::{self, BufRead, BufReader, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use tracing::warn;

use crate::io::record::Record;

mod recover;
mod write;

/// Id of the first segment of an empty journal. Ids below it are left free for
/// [`Journal::prepend`], which writes records older than everything in the journal.
const FIRST_ID: u64 = 1 << 32;

/// Segment size bounds; a journal of `max_bytes` uses segments of about `max_bytes / 8`.
const SEGMENT_MIN: u64 = 1 << 20;
const SEGMENT_MAX: u64 = 64 << 20;

/// A position in the journal: just before the line at `offset` of segment `segment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    segment: u64,
    offset: u64,
}

/// Records read from the journal, not yet committed.
#[derive(Debug)]
pub(super) struct Chunk {
    /// The readable records, in order.
    pub records: Vec<Record>,
    /// Lines that could not be parsed; they are skipped (and lost).
    pub unreadable: u64,
    /// Lines read, readable or not.
    lines: u64,
    /// Where the chunk ends.
    end: Pos,
}

/// What an append did.
#[derive(Debug, Default)]
pub(super) struct Appended {
    /// Records written to disk.
    pub written: u64,
    /// Records not written: over `max_bytes`, or lost to an I/O error.
    pub dropped: u64,
    /// The I/O error that lost records, if any.
    pub error: Option<io::Error>,
}

/// One segment file.
#[derive(Debug)]
struct Segment {
    id: u64,
    /// Bytes of complete lines in the file.
    len: u64,
}

/// The read side: an open segment positioned at `pos`.
#[derive(Debug)]
struct Reader {
    pos: Pos,
    file: BufReader<File>,
}

/// The on-disk spill journal of one writer. See the module docs.
#[derive(Debug)]
pub(super) struct Journal {
    dir: PathBuf,
    max_bytes: u64,
    segment_bytes: u64,
    /// Segment files, oldest first.
    segments: VecDeque<Segment>,
    /// Append handle on the newest segment, opened on first use.
    tail: Option<File>,
    /// Where the next [`Journal::read`] starts, if reading has begun.
    reader: Option<Reader>,
    /// Everything before this is in PostgreSQL (persisted in `cursor`).
    committed: Pos,
    /// Lines after `committed`.
    records: u64,
    /// Total bytes of the segment files.
    bytes: u64,
}

// === impl Journal ===

impl Journal {
    /// Opens (creating it if needed) the journal in `dir`, holding at most `max_bytes`.
    /// Whatever a previous run left there is kept, to be read first.
    ///
    /// # Errors
    /// The directory cannot be created or listed, or a segment cannot be read.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<Self> {
        let segment_bytes = (max_bytes / 8).clamp(SEGMENT_MIN, SEGMENT_MAX);
        Self::open_with(dir, max_bytes, segment_bytes)
    }

    /// [`Journal::open`] with a chosen segment size (tests use tiny segments).
    pub(super) fn open_with(dir: &Path, max_bytes: u64, segment_bytes: u64) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let mut journal = Self {
            dir: dir.to_owned(),
            max_bytes,
            segment_bytes: segment_bytes.max(1),
            segments: VecDeque::new(),
            tail: None,
            reader: None,
            committed: Pos {
                segment: FIRST_ID,
                offset: 0,
            },
            records: 0,
            bytes: 0,
        };
        journal.recover()?;
        Ok(journal)
    }

    /// Records waiting in the journal (read or not, not yet committed).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes of segment files on disk.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The bound on [`Journal::bytes`].
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Reads up to `max` lines from where the last read stopped (at most to the end of one
    /// segment). Empty if everything has been read.
    ///
    /// # Errors
    /// A segment cannot be opened or read; nothing is consumed then.
    pub fn read(&mut self, max: usize) -> io::Result<Chunk> {
        if self.segments.is_empty() {
            return Ok(Chunk {
                records: Vec::new(),
                unreadable: 0,
                lines: 0,
                end: self.committed,
            });
        }
        let mut reader = match self.reader.take() {
            Some(reader) => reader,
            None => self.open_reader(self.committed)?,
        };
        // Past the end of a finished segment: continue with the next one.
        let at_end =
            |j: &Self, pos: Pos| j.segment(pos.segment).is_none_or(|s| pos.offset >= s.len);
        if at_end(self, reader.pos) {
            if let Some(next) = self.segments.iter().find(|s| s.id > reader.pos.segment) {
                reader = self.open_reader(Pos {
                    segment: next.id,
                    offset: 0,
                })?;
            }
        }
        let len = self.segment(reader.pos.segment).map_or(0, |s| s.len);
        let mut chunk = Chunk {
            records: Vec::new(),
            unreadable: 0,
            lines: 0,
            end: reader.pos,
        };
        let mut line = Vec::new();
        while (chunk.lines as usize) < max && reader.pos.offset < len {
            line.clear();
            let limit = len - reader.pos.offset;
            let n = (&mut reader.file)
                .take(limit)
                .read_until(b'\n', &mut line)?;
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            reader.pos.offset += n as u64;
            chunk.lines += 1;
            match serde_json::from_slice(&line) {
                Ok(record) => chunk.records.push(record),
                Err(e) => {
                    chunk.unreadable += 1;
                    warn!(error = %e, segment = reader.pos.segment, "Unreadable journal line skipped");
                }
            }
        }
        chunk.end = reader.pos;
        self.reader = Some(reader);
        Ok(chunk)
    }

    /// Marks everything up to the end of `chunk` as written: persists the cursor and deletes the
    /// segments left behind (or the whole journal once it is drained).
    pub fn commit(&mut self, chunk: &Chunk) {
        self.committed = chunk.end;
        self.records = self.records.saturating_sub(chunk.lines);
        // Cursor before deleting anything: a crash in between must not replay committed lines.
        self.save_cursor();
        if self.records == 0 {
            self.clear();
            return;
        }
        while self.segments.len() > 1 && self.segments[0].id < self.committed.segment {
            if let Some(done) = self.segments.pop_front() {
                self.bytes -= done.len;
                let _ = fs::remove_file(self.segment_path(done.id));
            }
        }
    }

    /// Writes the cursor file (by rename, so it is never half written).
    fn save_cursor(&self) {
        let Pos { segment, offset } = self.committed;
        let tmp = self.dir.join("cursor.tmp");
        let saved = fs::write(&tmp, format!("{segment} {offset}\n"))
            .and_then(|()| fs::rename(&tmp, self.dir.join("cursor")));
        if let Err(e) = saved {
            // Only costs a replay of committed records after a restart.
            warn!(error = %e, dir = %self.dir.display(), "Cannot save the journal cursor");
        }
    }

    /// Deletes every segment and the cursor: the journal is empty.
    fn clear(&mut self) {
        self.tail = None;
        self.reader = None;
        for segment in self.segments.drain(..) {
            let _ = fs::remove_file(self.dir.join(segment_name(segment.id)));
        }
        let _ = fs::remove_file(self.dir.join("cursor"));
        self.bytes = 0;
        self.records = 0;
        self.committed = Pos {
            segment: FIRST_ID,
            offset: 0,
        };
    }

    // --- reading

    fn segment(&self, id: u64) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }

    fn segment_path(&self, id: u64) -> PathBuf {
        self.dir.join(segment_name(id))
    }

    fn open_reader(&self, pos: Pos) -> io::Result<Reader> {
        let mut file = File::open(self.segment_path(pos.segment))?;
        file.seek(SeekFrom::Start(pos.offset))?;
        Ok(Reader {
            pos,
            file: BufReader::with_capacity(256 << 10, file),
        })
    }
}

/// `00000000004294967296.jsonl` for id 4294967296.
fn segment_name(id: u64) -> String {
    format!("{id:020}.jsonl")
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".jsonl")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests;
