//! The journal's write side: appending (with rotation and fsync) and prepending.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write},
};

use super::{Appended, Journal, Pos, Segment, FIRST_ID};
use crate::io::record::Record;

// === impl Journal ===

impl Journal {
    /// Appends `records` after everything already here, as one write and one fsync.
    pub fn append(&mut self, records: &[Record]) -> Appended {
        let (buf, mut appended) = self.encode(records);
        if appended.written == 0 {
            return appended;
        }
        if let Err(error) = self.write_tail(&buf) {
            appended.dropped += appended.written;
            appended.written = 0;
            appended.error = Some(error);
            return appended;
        }
        self.records += appended.written;
        appended
    }

    /// Writes `records` *before* everything in the journal: they are older than what it holds.
    /// Used to save the memory queue at shutdown (the writer reads memory before the journal, so
    /// the journal is untouched while memory holds records). If the journal is empty this is an
    /// append; if it has been partly read already, also an append, which puts these records
    /// after newer ones.
    pub fn prepend(&mut self, records: &[Record]) -> Appended {
        let untouched = self.reader.is_none() && self.committed.offset == 0;
        let first = self.segments.front().map(|s| s.id);
        let Some(id) = first.filter(|&id| untouched && id > 0).map(|id| id - 1) else {
            return self.append(records);
        };
        let (buf, mut appended) = self.encode(records);
        if appended.written == 0 {
            return appended;
        }
        // Cursor first: if we crash before the segment is complete, the cursor names a missing
        // or torn segment, and opening falls back to the oldest segment there is.
        self.committed = Pos {
            segment: id,
            offset: 0,
        };
        self.save_cursor();
        let written = (|| {
            let mut file = self.create(id)?;
            file.write_all(&buf)?;
            file.sync_data()
        })();
        if let Err(error) = written {
            let _ = fs::remove_file(self.segment_path(id));
            if let Some(first) = first {
                self.committed = Pos {
                    segment: first,
                    offset: 0,
                };
                self.save_cursor();
            }
            appended.dropped += appended.written;
            appended.written = 0;
            appended.error = Some(error);
            return appended;
        }
        let len = buf.len() as u64;
        self.segments.push_front(Segment { id, len });
        self.bytes += len;
        self.records += appended.written;
        appended
    }

    /// Encodes `records` as JSON lines, leaving out those that would pass `max_bytes`.
    fn encode(&self, records: &[Record]) -> (Vec<u8>, Appended) {
        let mut buf = Vec::new();
        let mut appended = Appended::default();
        for record in records {
            let start = buf.len();
            let fits = serde_json::to_writer(&mut buf, record).is_ok() && {
                buf.push(b'\n');
                self.bytes + buf.len() as u64 <= self.max_bytes
            };
            if fits {
                appended.written += 1;
            } else {
                buf.truncate(start);
                appended.dropped += 1;
            }
        }
        (buf, appended)
    }

    /// Appends complete lines to the newest segment (starting a new one when it is full) and
    /// fsyncs. On failure the segment is cut back to where it was.
    fn write_tail(&mut self, buf: &[u8]) -> io::Result<()> {
        let full = self
            .segments
            .back()
            .is_none_or(|s| s.len >= self.segment_bytes);
        if full || self.tail.is_none() {
            let id = match self.segments.back() {
                Some(last) if !full => last.id,
                Some(last) => last.id + 1,
                None => FIRST_ID,
            };
            let file = self.create(id)?;
            if self.segments.back().is_none_or(|s| s.id != id) {
                self.segments.push_back(Segment { id, len: 0 });
            }
            self.tail = Some(file);
        }
        let (Some(file), Some(last)) = (self.tail.as_mut(), self.segments.back_mut()) else {
            return Err(io::Error::other("journal has no open segment"));
        };
        let result = file.write_all(buf).and_then(|()| file.sync_data());
        match result {
            Ok(()) => {
                last.len += buf.len() as u64;
                self.bytes += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Cut off a partial write so the next append starts on a line boundary.
                let _ = file.set_len(last.len);
                Err(e)
            }
        }
    }

    /// Opens segment `id` for appending, creating it (and syncing the directory) if new.
    fn create(&self, id: u64) -> io::Result<File> {
        let path = self.segment_path(id);
        let existed = path.exists();
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if !existed {
            File::open(&self.dir).and_then(|d| d.sync_all())?;
        }
        Ok(file)
    }
}
