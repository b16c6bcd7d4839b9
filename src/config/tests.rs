//! Tests of loading, overrides and validation. The environment is always injected.

use std::{collections::HashMap, path::Path, time::Duration};

use super::*;

const DEFAULT_TOML: &str = include_str!("../../config/default.toml");
const PRODUCTION_TOML: &str = include_str!("../../config/example-production.toml");

pub(super) fn no_env(_: &str) -> Option<String> {
    None
}

/// A lookup function over fixed pairs.
pub(super) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

pub(super) fn with_env(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_toml_str("", &env_of(pairs))
}

pub(super) fn error_text(pairs: &[(&str, &str)]) -> String {
    with_env(pairs)
        .expect_err("the environment is invalid")
        .to_string()
}

pub(super) fn toml_error(text: &str) -> String {
    Config::from_toml_str(text, &no_env)
        .expect_err("the text is invalid")
        .to_string()
}

#[test]
fn default_file_equals_default_config() {
    let parsed = Config::from_toml_str(DEFAULT_TOML, &no_env).expect("default.toml loads");
    assert_eq!(parsed, Config::default());
    // Every key is written out in the file, with the default's value: docs and code can't drift.
    let file: Table = DEFAULT_TOML.parse().expect("default.toml is TOML");
    let code = Value::try_from(Config::default()).expect("the default config serialises");
    assert_eq!(Value::Table(file), code);
}

#[test]
fn no_file_means_defaults() {
    assert_eq!(
        Config::load(None, &no_env).expect("defaults load"),
        Config::default()
    );
}

#[test]
fn default_file_loads_from_disk() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
    let config = Config::load(Some(&path), &no_env).expect("default.toml loads from disk");
    assert_eq!(config, Config::default());
}

#[test]
fn example_production_parses() {
    let config = Config::from_toml_str(PRODUCTION_TOML, &no_env).expect("production example loads");
    assert!(!config.demo.enabled && config.postgres.enabled && !config.redis.url.is_empty());
    assert_eq!(config.resolved_shards(64), 7);
    assert_eq!(
        config.identity.aliases["soccer"]["man utd"],
        "manchester united"
    );
    assert_eq!(
        config.polling.provider_intervals["odds-api"],
        Duration::from_secs(60)
    );
}

#[test]
fn schema_and_struct_have_the_same_keys() {
    let Value::Table(root) = Value::try_from(Config::default()).expect("serialises") else {
        panic!("config serialises to a table");
    };
    for key in schema::KEYS {
        let present = root
            .get(key.section)
            .and_then(|s| s.get(key.name))
            .is_some();
        assert!(present, "schema key {} has no struct field", key.path());
    }
    let mut vars: Vec<String> = schema::KEYS.iter().map(|k| k.env_var()).collect();
    vars.sort();
    vars.dedup();
    assert_eq!(
        vars.len(),
        schema::KEYS.len(),
        "two keys share an INPLAY_* name"
    );
}

#[test]
fn invalid_file_value_names_key() {
    assert_eq!(
        toml_error("[log]\nformat = \"xml\""),
        "invalid value \"xml\" for log.format: expected one of: json, pretty"
    );
    assert!(toml_error("[http]\nmax_header_bytes = 100").contains("http.max_header_bytes"));
    assert!(toml_error("[http]\nmax_body_bytes = 100000000").contains("up to 67108864"));
    assert!(toml_error("[http]\nmax_json_depth = 0").contains("http.max_json_depth"));
    let text = toml_error("[websocket]\nmax_subscriptions_per_ip = 0");
    assert!(
        text.contains("websocket.max_subscriptions_per_ip"),
        "{text}"
    );
    assert!(toml_error("[server]\nport = \"80\"").contains("server.port"));
    assert!(toml_error("server = 1").contains("expected a table [server]"));
    assert!(toml_error("[polling]\nmin_interval_ms = 500").contains("polling.min_interval_ms"));
    let text = toml_error("[identity]\nstart_window_ms = 0");
    assert!(text.contains("identity.start_window_ms"), "{text}");
}

#[test]
fn file_errors_name_the_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/no-such-file.toml");
    let text = Config::load(Some(&path), &no_env)
        .expect_err("missing file")
        .to_string();
    assert!(
        text.contains("no-such-file.toml") && text.contains("--config"),
        "{text}"
    );
    assert!(toml_error("[server\nport = 1").contains("not valid TOML"));
}

#[test]
fn unknown_keys_are_errors() {
    assert_eq!(
        toml_error("[server]\nshardz = 2"),
        "unknown config key `server.shardz`: see config/default.toml for every key"
    );
    assert!(toml_error("[servre]\nport = 1").contains("`servre`"));
    assert!(toml_error("top_level = 1").contains("`top_level`"));
}

#[test]
fn cpus_must_cover_shards_and_be_distinct() {
    let text = toml_error("[server]\nshards = 3\ncpus = [0, 1]");
    assert!(
        text.contains("server.cpus") && text.contains("at least server.shards (3)"),
        "{text}"
    );
    let text = toml_error("[server]\ncpus = [1, 1]");
    assert!(text.contains("distinct"), "{text}");
    let text = error_text(&[("INPLAY_SERVER_CPUS", "0,5000")]);
    assert!(text.contains("0..=4095"), "{text}");
}

#[test]
fn intervals_respect_the_minimum() {
    let text = toml_error("[polling]\nmin_interval_ms = 5000");
    // league nba (3000) is a default the file did not set: the message says so.
    assert!(
        text.contains("polling.league_intervals.nba (built-in default)")
            || text.contains("polling.demo_interval_ms (built-in default)"),
        "{text}"
    );
    let text = error_text(&[("INPLAY_POLLING_SPORT_INTERVALS", "football=10")]);
    assert!(
        text.contains("polling.sport_intervals.football (from INPLAY_POLLING_SPORT_INTERVALS)"),
        "{text}"
    );
    let text = error_text(&[("POLLING_DEFAULT_INTERVAL", "999")]);
    assert!(text.contains("(from POLLING_DEFAULT_INTERVAL)"), "{text}");
}

#[test]
fn market_limits_are_ordered() {
    let text = toml_error("[markets]\ndefault_limit = 600");
    assert!(
        text.contains("markets.default_limit") && text.contains("max_limit (500)"),
        "{text}"
    );
}

#[test]
fn aliases_load_and_are_checked() {
    let config = Config::from_toml_str(
        "[identity.aliases.soccer]\n\"man utd\" = \"manchester united\"",
        &no_env,
    )
    .expect("aliases load");
    assert_eq!(
        config.identity.aliases["soccer"]["man utd"],
        "manchester united"
    );
    assert!(toml_error("[identity.aliases.soccer]\nspurs = \"\"").contains("identity.aliases"));
    assert!(toml_error("[identity.aliases]\nsoccer = 1").contains("identity.aliases.soccer"));
}

#[test]
fn log_filter_directives_are_accepted() {
    let config = with_env(&[("LOG_LEVEL", "info,inplay::http=debug")]).expect("directive");
    assert_eq!(config.log.level, "info,inplay::http=debug");
    assert!(error_text(&[("LOG_LEVEL", "info,inplay=loud")]).contains("log.level"));
}

#[test]
fn resolved_shards_follows_shards_then_cpus_then_cores() {
    let mut config = Config::default();
    assert_eq!(config.resolved_shards(8), 8);
    assert_eq!(config.resolved_shards(0), 1);
    assert_eq!(config.resolved_shards(5000), 1024);
    config.server.cpus = vec![4, 5];
    assert_eq!(config.resolved_shards(8), 2);
    config.server.shards = 1;
    assert_eq!(config.resolved_shards(8), 1);
}

#[test]
fn secrets_are_redacted_in_debug() {
    let config = with_env(&[("JWT_SECRET", "hunter2"), ("DB_PASSWORD", "pw-123")]).expect("loads");
    let debug = format!("{config:?}");
    assert!(debug.contains("jwt_secret: \"<redacted>\""), "{debug}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("pw-123"),
        "{debug}"
    );
}

#[test]
fn polling_config_as_original_json() {
    let json = Config::default().polling.to_json();
    assert_eq!(json["defaultInterval"], 30_000);
    assert_eq!(json["sportIntervals"]["football"], 10_000);
    assert_eq!(json["leagueIntervals"]["nba"], 3_000);
    assert_eq!(json["matchIntervals"], serde_json::json!({}));
}

#[test]
fn postgres_writer_and_storage_keys() {
    let config = Config::default();
    let pg = &config.postgres;
    assert_eq!(
        (pg.pool_size, pg.batch_max, pg.queue_max),
        (4, 1000, 100_000)
    );
    assert_eq!(config.storage.data_dir, Path::new("data"));
    assert_eq!(config.storage.journal_max_bytes, 1 << 30);

    let config = with_env(&[
        ("INPLAY_STORAGE_DATA_DIR", "/var/lib/inplay"),
        ("INPLAY_STORAGE_JOURNAL_MAX_BYTES", "0"),
        ("INPLAY_POSTGRES_POOL_SIZE", "2"),
        ("INPLAY_POSTGRES_BATCH_MAX", "50"),
        ("INPLAY_POSTGRES_QUEUE_MAX", "10"),
    ])
    .expect("loads");
    assert_eq!(config.storage.data_dir, Path::new("/var/lib/inplay"));
    assert_eq!(config.storage.journal_max_bytes, 0);
    let pg = &config.postgres;
    assert_eq!((pg.pool_size, pg.batch_max, pg.queue_max), (2, 50, 10));

    let text = error_text(&[("INPLAY_POSTGRES_POOL_SIZE", "0")]);
    assert!(
        text.contains("postgres.pool_size") && text.contains("1..=1024"),
        "{text}"
    );
    assert!(toml_error("[postgres]\nbatch_max = 0").contains("postgres.batch_max"));
    assert!(toml_error("[postgres]\nqueue_max = -1").contains("postgres.queue_max"));
    assert!(toml_error("[storage]\ndata_dir = \" \"").contains("storage.data_dir"));
    let text = error_text(&[("INPLAY_STORAGE_JOURNAL_MAX_BYTES", "1GiB")]);
    assert!(text.contains("storage.journal_max_bytes"), "{text}");
    assert!(toml_error("[storage]\njournal_dir = \"x\"").contains("`storage.journal_dir`"));
}

#[test]
fn redis_url_passwords_are_redacted_and_nothing_else() {
    use super::storage::url_without_password as shown;
    assert_eq!(
        shown("redis://:pw@h:6379/0"),
        "redis://:<redacted>@h:6379/0"
    );
    assert_eq!(
        shown("rediss://u:p@ss@h/1?x=y"),
        "rediss://u:<redacted>@h/1?x=y"
    );
    assert_eq!(shown("redis://h:6379"), "redis://h:6379");
    assert_eq!(shown("redis://user@h"), "redis://user@h");
    assert_eq!(shown("not a url"), "not a url");
    assert_eq!(shown(""), "");
}

#[test]
fn max_headers_stops_at_the_parsers_slots() {
    assert!(with_env(&[("INPLAY_HTTP_MAX_HEADERS", "64")]).is_ok());
    let text = error_text(&[("INPLAY_HTTP_MAX_HEADERS", "65")]);
    assert!(
        text.contains("http.max_headers") && text.contains("1..=64"),
        "{text}"
    );
}
