//! Servers fed only by configured `[[providers]]`: no demo feed, so every match, price and
//! settlement a test sees is one it polled from a fake provider or pushed itself.

use std::path::PathBuf;

use super::{token_with_roles, Resp, TestServer};

/// A config file for test `name`: no demo, every task polls each second, storage in a fresh
/// directory next to the file, and `extra` (more tables, `[[providers]]`) appended.
pub fn config(name: &str, extra: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("inplay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("config dir");
    let text = format!(
        "[demo]\nenabled = false\n\
         [polling]\ndefault_interval_ms = 1000\nprematch_interval_ms = 0\n\
         [polling.sport_intervals]\n[polling.league_intervals]\n\
         [storage]\ndata_dir = {:?}\n\n{extra}",
        dir.join("data").display().to_string()
    );
    let path = dir.join("inplay.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// Starts a server on [`config`]`(name, extra)`.
pub fn start(name: &str, extra: &str) -> TestServer {
    let path = config(name, extra);
    TestServer::start_with_args(&["--config", path.to_str().expect("utf-8 path")], &[])
}

/// A `native` provider entry polling `feed` (`sport/league`) at `base_url`.
pub fn native(id: &str, base_url: &str, feed: &str, priority: u32) -> String {
    format!(
        "[[providers]]\nid = \"{id}\"\nkind = \"native\"\nbase_url = \"{base_url}\"\n\
         feeds = [\"{feed}\"]\npriority = {priority}\n\n"
    )
}

/// `POST /api/ingest/:provider` with `body`, as the `service` role.
pub fn push(server: &TestServer, provider: &str, body: &str) -> Resp {
    let auth = format!("Bearer {}", token_with_roles(&["service"]));
    server.request_with(
        "POST",
        &format!("/api/ingest/{provider}"),
        Some(body),
        &[("Authorization", &auth)],
    )
}
