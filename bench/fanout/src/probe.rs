//! Memory and CPU time of a process, and how busy the machine is, from `/proc`.
//!
//! CPU times are in clock ticks of `USER_HZ`, which Linux fixes at 100 per second for every
//! program whatever the kernel's own tick rate.

/// Clock ticks per second in `/proc/*/stat` and `/proc/stat`.
pub const TICKS_PER_SEC: f64 = 100.0;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// Resident set size (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// Peak resident set size (`VmHWM`), KiB.
    pub hwm_kib: u64,
    /// User + system CPU time of all its threads, ticks.
    pub cpu_ticks: u64,
}

/// Reads process `pid` (`None`: it is gone, or this is not Linux).
pub fn sample(pid: u32) -> Option<Sample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(Sample {
        rss_kib: status_kib(&status, "VmRSS:")?,
        hwm_kib: status_kib(&status, "VmHWM:").unwrap_or(0),
        cpu_ticks: stat_cpu_ticks(&stat)?,
    })
}

/// CPU ticks of this process.
pub fn own_cpu_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| stat_cpu_ticks(&s))
        .unwrap_or(0)
}

/// Busy ticks (user + nice + system + irq + softirq) summed over every cpu.
pub fn machine_busy_ticks() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0;
    };
    stat.lines()
        .find(|l| l.starts_with("cpu "))
        .map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            [0, 1, 2, 5, 6].iter().filter_map(|&i| f.get(i)).sum()
        })
        .unwrap_or(0)
}

fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// utime + stime: fields 14 and 15 of `stat`, counted after the `)` that ends the name (which
/// may itself hold spaces and parentheses).
fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_an_awkward_name() {
        let stat = "42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 2 3";
        assert_eq!(stat_cpu_ticks(stat), Some(300));
        assert_eq!(stat_cpu_ticks("garbage"), None);
    }

    #[test]
    fn reads_this_process() {
        let me = sample(std::process::id()).expect("/proc is there");
        assert!(me.rss_kib > 0 && me.hwm_kib >= me.rss_kib);
        assert!(machine_busy_ticks() > 0);
    }
}
