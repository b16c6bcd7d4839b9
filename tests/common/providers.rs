//! Servers fed only by configured `[[providers]]`: no demo feed, so every match, price and
//! settlement a test sees is one it polled from a fake provider or pushed itself.

use std::{path::PathBuf, time::Duration};

use serde_json::Value;

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

/// ESPN's NFL scoreboard path on the fake provider.
pub const ESPN_NFL: &str = "/apis/site/v2/sports/football/nfl/scoreboard";

/// As [`config`], with league tasks polling every `default_ms`.
pub fn config_polling(name: &str, default_ms: u64, providers: &str) -> std::path::PathBuf {
    let path = config(name, providers);
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "default_interval_ms = 1000",
        &format!("default_interval_ms = {default_ms}"),
        1,
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The provider `id` in `/api/providers/health`'s `liveScoreProviders` or `marketProviders`.
pub fn provider(health: &Value, id: &str) -> Value {
    for list in ["liveScoreProviders", "marketProviders"] {
        if let Some(p) = health[list]
            .as_array()
            .and_then(|l| l.iter().find(|p| p["providerId"] == id))
        {
            return p.clone();
        }
    }
    Value::Null
}

/// The polling task `id` in `/api/polling/status` (null if absent).
pub fn task(server: &TestServer, id: &str) -> Value {
    let status = server.get_json("/api/polling/status");
    status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Waits until the polling task `id` satisfies `pred`, and returns it.
pub fn wait_task(
    server: &TestServer,
    id: &str,
    timeout: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    server.wait_for("/api/polling/status", timeout, |v| {
        v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id && pred(t))
    });
    task(server, id)
}

/// `/api/matches` as text.
pub fn matches_text(server: &TestServer) -> String {
    server.get("/api/matches").text()
}
