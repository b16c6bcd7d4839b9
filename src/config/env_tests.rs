//! Tests of the environment: the original service's variables, `INPLAY_*` overrides, and the
//! errors that name a bad variable.

use std::time::Duration;

use super::{
    tests::{env_of, error_text, with_env},
    *,
};

#[test]
fn original_variables_map_to_keys() {
    let config = with_env(&[
        ("PORT", "8080"),
        ("HOST", "127.0.0.1"),
        ("LOG_LEVEL", "debug"),
        ("REDIS_URL", "redis://localhost:6379"),
        ("DB_HOST", "db"),
        ("DB_PORT", "6543"),
        ("DB_NAME", "odds"),
        ("DB_USER", "u"),
        ("DB_PASSWORD", "p"),
        ("JWT_SECRET", "s3cret"),
        ("ALLOWED_ORIGINS", "https://a.example, https://b.example,"),
        ("POLLING_DEFAULT_INTERVAL", "20000"),
    ])
    .expect("original variables load");
    assert_eq!(
        (config.server.host.as_str(), config.server.port),
        ("127.0.0.1", 8080)
    );
    assert_eq!(config.log.level, "debug");
    assert_eq!(config.redis.url, "redis://localhost:6379");
    let pg = &config.postgres;
    assert_eq!(
        (pg.host.as_str(), pg.port, pg.dbname.as_str()),
        ("db", 6543, "odds")
    );
    assert_eq!((pg.user.as_str(), pg.password.as_str()), ("u", "p"));
    assert!(
        !pg.enabled,
        "connection variables alone do not switch PostgreSQL on"
    );
    assert_eq!(config.auth.jwt_secret, "s3cret");
    assert_eq!(
        config.cors.allowed_origins,
        ["https://a.example", "https://b.example"]
    );
    assert_eq!(config.polling.default_interval, Duration::from_secs(20));
}

#[test]
fn empty_original_variable_counts_as_unset() {
    let config = with_env(&[("PORT", ""), ("LOG_LEVEL", "")]).expect("empty means unset");
    assert_eq!(
        (config.server.port, config.log.level.as_str()),
        (3000, "info")
    );
}

#[test]
fn inplay_variable_beats_original() {
    let config = with_env(&[
        ("PORT", "8080"),
        ("INPLAY_SERVER_PORT", "9090"),
        ("REDIS_URL", "redis://x"),
    ])
    .expect("loads");
    assert_eq!(config.server.port, 9090);
    // An empty INPLAY_* string is a real value: it switches Redis off again.
    let config = with_env(&[("REDIS_URL", "redis://x"), ("INPLAY_REDIS_URL", "")]).expect("loads");
    assert!(config.redis.url.is_empty());
}

#[test]
fn environment_beats_file() {
    let config = Config::from_toml_str(
        "[server]\nshards = 4",
        &env_of(&[("INPLAY_SERVER_SHARDS", "2")]),
    )
    .expect("loads");
    assert_eq!(config.server.shards, 2);
}

#[test]
fn section_with_underscore_and_types() {
    let config = with_env(&[
        ("INPLAY_RATE_LIMIT_ENABLED", "false"),
        ("INPLAY_RATE_LIMIT_REQUESTS_PER_MINUTE", "250"),
        ("INPLAY_DEMO_ENABLED", "0"),
        ("INPLAY_HTTP_IDLE_TIMEOUT_MS", "1500"),
        ("INPLAY_HTTP_MAX_JSON_DEPTH", "8"),
        ("INPLAY_WEBSOCKET_MAX_CONNECTIONS_PER_IP", "4"),
        ("INPLAY_LOG_FORMAT", "pretty"),
    ])
    .expect("loads");
    assert_eq!(config.http.max_json_depth, 8);
    assert_eq!(config.websocket.max_connections_per_ip, 4);
    assert!(!config.rate_limit.enabled && !config.demo.enabled);
    assert_eq!(config.rate_limit.requests_per_minute, 250);
    assert_eq!(config.http.idle_timeout, Duration::from_millis(1500));
    assert_eq!(config.log.format, LogFormat::Pretty);
}

#[test]
fn lists_and_tables_from_comma_lists() {
    let config = with_env(&[
        ("INPLAY_SERVER_CPUS", "2, 3,5"),
        ("INPLAY_CORS_ALLOWED_ORIGINS", ""),
        ("INPLAY_POLLING_LEAGUE_INTERVALS", "nba=2000, nfl = 4000"),
    ])
    .expect("loads");
    assert_eq!(config.server.cpus, [2, 3, 5]);
    assert_eq!(config.resolved_shards(64), 3);
    assert!(config.cors.allowed_origins.is_empty());
    let leagues: Vec<_> = config.polling.league_intervals.iter().collect();
    assert_eq!(
        leagues,
        [
            (&"nba".to_owned(), &Duration::from_secs(2)),
            (&"nfl".to_owned(), &Duration::from_secs(4))
        ]
    );
}

#[test]
fn invalid_env_value_names_key_and_variable() {
    assert_eq!(
        error_text(&[("INPLAY_SERVER_SHARDS", "abc")]),
        "invalid value \"abc\" for server.shards (from INPLAY_SERVER_SHARDS): \
         expected a non-negative integer up to 1024"
    );
    let text = error_text(&[("PORT", "70000")]);
    assert!(
        text.contains("server.port (from PORT)") && text.contains("up to 65535"),
        "{text}"
    );
    let text = error_text(&[("INPLAY_DEMO_ENABLED", "yes")]);
    assert!(
        text.contains("demo.enabled (from INPLAY_DEMO_ENABLED)"),
        "{text}"
    );
    let text = error_text(&[("INPLAY_SERVER_CPUS", "1,x")]);
    assert!(
        text.contains("server.cpus (from INPLAY_SERVER_CPUS)"),
        "{text}"
    );
    let text = error_text(&[("LOG_LEVEL", "infoo")]);
    assert!(
        text.contains("log.level (from LOG_LEVEL)") && text.contains("trace, debug"),
        "{text}"
    );
    let text = error_text(&[("HOST", "localhost")]);
    assert!(
        text.contains("server.host (from HOST)") && text.contains("IP address"),
        "{text}"
    );
    let text = error_text(&[("REDIS_URL", "localhost:6379")]);
    assert!(text.contains("redis.url (from REDIS_URL)"), "{text}");
}

#[test]
fn unknown_inplay_variables_are_errors() {
    check_env_names(["PATH", "INPLAY_SERVER_SHARDS", "INPLAY_RATE_LIMIT_ENABLED"])
        .expect("known names pass");
    let err = check_env_names(["INPLAY_SERVER_SHARDZ"]).expect_err("typo");
    assert!(err.to_string().contains("INPLAY_SERVER_SHARDZ"), "{err}");
    let err = check_env_names(["INPLAY_IDENTITY_ALIASES"]).expect_err("file-only key");
    assert!(err.to_string().contains("identity.aliases"), "{err}");
    let text = error_text(&[("INPLAY_IDENTITY_ALIASES", "x")]);
    assert!(text.contains("INPLAY_IDENTITY_ALIASES"), "{text}");
}
