//! Opening a journal a previous run left behind: segments, torn tails, the cursor.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Seek, SeekFrom},
    path::Path,
};

use tracing::warn;

use super::{parse_segment_name, Journal, Pos, Segment};

// === impl Journal ===

impl Journal {
    /// Loads what a previous run left: segments (torn tails cut), cursor, pending count.
    pub(super) fn recover(&mut self) -> io::Result<()> {
        let mut ids = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let id = name.to_str().and_then(parse_segment_name);
            ids.extend(id);
        }
        ids.sort_unstable();
        let cursor = self.load_cursor();
        for id in ids {
            let path = self.segment_path(id);
            if cursor.is_some_and(|c| id < c.segment) {
                // Committed before the last run stopped; only its deletion was missed.
                fs::remove_file(&path)?;
                continue;
            }
            let len = cut_torn_tail(&path)?;
            self.segments.push_back(Segment { id, len });
            self.bytes += len;
        }
        let first = self.segments.front().map(|s| s.id);
        self.committed = match (cursor, first) {
            (Some(c), _) if self.on_line_start(c) => c,
            (_, Some(first)) => Pos {
                segment: first,
                offset: 0,
            },
            _ => self.committed,
        };
        self.records = self.count_pending()?;
        if self.records == 0 {
            self.clear();
        }
        Ok(())
    }

    fn load_cursor(&self) -> Option<Pos> {
        let text = fs::read_to_string(self.dir.join("cursor")).ok()?;
        let mut parts = text.split_whitespace().map(str::parse::<u64>);
        match (parts.next(), parts.next()) {
            (Some(Ok(segment)), Some(Ok(offset))) => Some(Pos { segment, offset }),
            _ => None,
        }
    }

    /// Whether `pos` is in a known segment, at the start of a line.
    fn on_line_start(&self, pos: Pos) -> bool {
        let Some(segment) = self.segment(pos.segment) else {
            return false;
        };
        if pos.offset == 0 || pos.offset == segment.len {
            return true;
        }
        if pos.offset > segment.len {
            return false;
        }
        let mut byte = [0u8; 1];
        File::open(self.segment_path(pos.segment))
            .and_then(|mut f| {
                f.seek(SeekFrom::Start(pos.offset - 1))?;
                f.read_exact(&mut byte)
            })
            .is_ok_and(|()| byte[0] == b'\n')
    }

    /// Lines from `committed` to the end.
    fn count_pending(&self) -> io::Result<u64> {
        let mut lines = 0;
        for segment in self
            .segments
            .iter()
            .filter(|s| s.id >= self.committed.segment)
        {
            let mut file = File::open(self.segment_path(segment.id))?;
            if segment.id == self.committed.segment {
                file.seek(SeekFrom::Start(self.committed.offset))?;
            }
            let mut buf = vec![0u8; 256 << 10];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
            }
        }
        Ok(lines)
    }
}

/// Cuts a segment back to its last complete line (a crash can leave half a line) and returns
/// its length.
fn cut_torn_tail(path: &Path) -> io::Result<u64> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let mut keep = len;
    let mut buf = vec![0u8; 64 << 10];
    while keep > 0 {
        let start = keep.saturating_sub(buf.len() as u64);
        let n = (keep - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        match buf[..n].iter().rposition(|&b| b == b'\n') {
            Some(i) => {
                keep = start + i as u64 + 1;
                break;
            }
            None => keep = start,
        }
    }
    if keep < len {
        warn!(path = %path.display(), bytes = len - keep, "Cut a torn line off the journal");
        file.set_len(keep)?;
        file.sync_data()?;
    }
    Ok(keep)
}
