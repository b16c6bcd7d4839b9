//! What to run: the command line, parsed into a [`Config`].
//!
//! Flags are `--name value` (or `--name=value`); every one has a default except `--port`.
//! Parsing never panics: a bad flag or value is an error message naming it.

use std::{fmt, time::Duration};

/// Which WebSocket endpoint the subscribers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `ws://HOST:PORT/live/<id>`: one match per connection, the original service's endpoint.
    Live,
    /// `ws://HOST:PORT/ws` then `{"op":"subscribe","matches":[id]}`: inplay's multiplexed one.
    Mux,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endpoint::Live => "live",
            Endpoint::Mux => "ws",
        })
    }
}

/// One run of the generator.
#[derive(Debug, Clone)]
pub struct Config {
    /// Server host (an IPv4 loopback address keeps `--sources` usable).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// `/live/<id>` or `/ws`.
    pub endpoint: Endpoint,
    /// N: subscribers (WebSocket connections), subscriber `i` watching match `i % M`.
    pub subscribers: usize,
    /// M: matches the subscribers are spread over.
    pub matches: usize,
    /// Updates per second per match.
    pub rate: f64,
    /// Updates published per match.
    pub count: u64,
    /// Where to `PUBLISH match:<id>` (the server must subscribe to the same Redis).
    pub redis_url: String,
    /// The server's process id, for RSS and CPU time from `/proc` (optional).
    pub pid: Option<u32>,
    /// Handshakes in flight at once.
    pub concurrency: usize,
    /// Match ids are `<prefix><k>`, k in 0..M.
    pub prefix: String,
    /// Pause between the last subscriber connecting and the first publish (the server may
    /// register a session just after its handshake; RSS "connected" is read at its end).
    pub settle: Duration,
    /// After the last publish, how long to wait for the last deliveries.
    pub grace: Duration,
    /// Hard cap on the whole run, connecting included.
    pub max_time: Duration,
    /// Client source addresses 127.0.0.1 ..= 127.0.0.S (past ~28k connections one source
    /// address runs out of ephemeral ports).
    pub sources: u8,
    /// Runtime worker threads (default: the cpus this process may run on).
    pub threads: usize,
    /// Free text copied into the JSON summary.
    pub label: String,
    /// Print only the JSON summary line (no table).
    pub json_only: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 0,
            endpoint: Endpoint::Live,
            subscribers: 1000,
            matches: 100,
            rate: 10.0,
            count: 200,
            redis_url: "redis://127.0.0.1:6379".into(),
            pid: None,
            concurrency: 256,
            prefix: "fanout-".into(),
            settle: Duration::from_millis(1000),
            grace: Duration::from_millis(5000),
            max_time: Duration::from_secs(300),
            sources: 1,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            label: String::new(),
            json_only: false,
        }
    }
}

/// `--help`.
pub const USAGE: &str = "\
inplay-fanout: WebSocket fan-out load generator (updates published through Redis)

usage: inplay-fanout --port PORT [flags]

  --host H          server host (127.0.0.1)
  --port P          server port (required)
  --endpoint E      live: /live/<id> (default); ws: /ws + {\"op\":\"subscribe\",\"matches\":[id]}
  --subscribers N   WebSocket subscribers (1000); alias -n
  --matches M       matches they are spread over, subscriber i on match i % M (100)
  --rate R          updates per second per match (10)
  --count C         updates per match (200)
  --redis URL       Redis the server subscribes to (redis://127.0.0.1:6379)
  --pid PID         server process: RSS before/connected/end, CPU time while publishing
  --concurrency K   handshakes in flight at once (256)
  --prefix S        match ids are S0 .. S(M-1) (fanout-)
  --settle-ms T     pause after connecting, before publishing (1000)
  --grace-ms T      wait for late deliveries after the last publish (5000)
  --max-secs T      hard cap on the whole run (300)
  --sources S       client source addresses 127.0.0.1 ..= 127.0.0.S (1)
  --threads K       client runtime threads (the cpus this process may use)
  --label S         copied into the JSON summary
  --json            print only the JSON summary line

Publishes PUBLISH match:<id> {\"homeScore\",\"awayScore\",\"period\",\"n\",\"sentAt\"}
(sentAt in unix microseconds, read from this process's clock, so latency needs no clock
sync), M*R messages a second spread evenly; reports delivered msgs/s, latency percentiles,
losses, reorderings, duplicates, and the server's RSS and CPU. Exit status: 0 if anything
was delivered, 1 if nothing was, 2 for a usage error.
";

impl Config {
    /// Parses flags (without the program name). `Ok(None)` means `--help` was asked for.
    pub fn parse<I, S>(args: I) -> Result<Option<Self>, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut c = Config::default();
        let mut port = None;
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            match name.as_str() {
                "-h" | "--help" => return Ok(None),
                "--json" => {
                    c.json_only = true;
                    continue;
                }
                _ => {}
            }
            let value = match inline.or_else(|| args.next()) {
                Some(v) => v,
                None => return Err(format!("{name} needs a value")),
            };
            match name.as_str() {
                "--host" => c.host = value,
                "--port" => port = Some(number(&name, &value, 1, u64::from(u16::MAX))? as u16),
                "--endpoint" => {
                    c.endpoint = match value.as_str() {
                        "live" => Endpoint::Live,
                        "ws" | "mux" => Endpoint::Mux,
                        _ => return Err(format!("--endpoint is live or ws, not {value:?}")),
                    }
                }
                "-n" | "--subscribers" => {
                    c.subscribers = number(&name, &value, 1, 1 << 24)? as usize
                }
                "--matches" => c.matches = number(&name, &value, 1, 1 << 20)? as usize,
                "--rate" => c.rate = rate(&value)?,
                "--count" => c.count = number(&name, &value, 1, 1 << 24)?,
                "--redis" => c.redis_url = value,
                "--pid" => c.pid = Some(number(&name, &value, 1, u64::from(u32::MAX))? as u32),
                "--concurrency" => c.concurrency = number(&name, &value, 1, 1 << 16)? as usize,
                "--prefix" => c.prefix = prefix(&value)?,
                "--settle-ms" => c.settle = millis(&name, &value)?,
                "--grace-ms" => c.grace = millis(&name, &value)?,
                "--max-secs" => c.max_time = Duration::from_secs(number(&name, &value, 1, 86_400)?),
                "--sources" => c.sources = number(&name, &value, 1, 254)? as u8,
                "--threads" => c.threads = number(&name, &value, 1, 1024)? as usize,
                "--label" => c.label = value,
                _ => return Err(format!("unknown flag {name:?} (see --help)")),
            }
        }
        c.port = port.ok_or("--port is required (see --help)")?;
        Ok(Some(c))
    }

    /// The id of match `k`.
    pub fn match_id(&self, k: usize) -> String {
        format!("{}{k}", self.prefix)
    }

    /// The URL subscriber connections open.
    pub fn url(&self, match_id: &str) -> String {
        format!("ws://{}:{}{}", self.host, self.port, self.path(match_id))
    }

    /// The path of [`url`](Self::url).
    pub fn path(&self, match_id: &str) -> String {
        match self.endpoint {
            Endpoint::Live => format!("/live/{match_id}"),
            Endpoint::Mux => "/ws".to_owned(),
        }
    }
}

fn number(name: &str, value: &str, min: u64, max: u64) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(format!(
            "{name} must be a whole number in {min}..={max}, not {value:?}"
        )),
    }
}

fn millis(name: &str, value: &str) -> Result<Duration, String> {
    number(name, value, 0, 3_600_000).map(Duration::from_millis)
}

fn rate(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(r) if r.is_finite() && (0.01..=100_000.0).contains(&r) => Ok(r),
        _ => Err(format!(
            "--rate must be a number in 0.01..=100000, not {value:?}"
        )),
    }
}

/// Match ids must pass the server's name check: `[A-Za-z0-9_.:-]`, at most 128 bytes.
fn prefix(value: &str) -> Result<String, String> {
    let ok = value.len() <= 100
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "--prefix may hold only A-Z a-z 0-9 - _ . : (got {value:?})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags_and_defaults() {
        let c = Config::parse([
            "--port",
            "3000",
            "-n",
            "50",
            "--matches=5",
            "--endpoint",
            "ws",
        ])
        .expect("valid")
        .expect("not help");
        assert_eq!((c.port, c.subscribers, c.matches), (3000, 50, 5));
        assert_eq!(c.endpoint, Endpoint::Mux);
        assert_eq!(c.url("x"), "ws://127.0.0.1:3000/ws");
        assert_eq!(c.match_id(3), "fanout-3");
        assert_eq!(c.concurrency, 256);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in [
            vec!["-n", "10"],
            vec!["--port"],
            vec!["--port", "0"],
            vec!["--port", "70000"],
            vec!["--port", "1", "--rate", "NaN"],
            vec!["--port", "1", "--prefix", "a b"],
            vec!["--port", "1", "--bogus", "1"],
            vec!["--port", "1", "--endpoint", "tcp"],
        ] {
            assert!(Config::parse(bad.clone()).is_err(), "{bad:?}");
        }
        assert!(Config::parse(["--help"]).expect("help").is_none());
    }
}
