//! Tests of the security keys: `[auth]`, `[cors]`, `[rate_limit]`, and the placeholder secret.

use std::time::Duration;

use super::{
    security,
    tests::{error_text, toml_error, with_env},
};

#[test]
fn security_keys_load_from_the_environment() {
    let config = with_env(&[
        ("INPLAY_AUTH_ALGORITHMS", "RS256, PS256"),
        ("INPLAY_AUTH_PUBLIC_KEY_FILE", "/etc/inplay/jwt.pub"),
        ("INPLAY_AUTH_LEEWAY_MS", "5000"),
        ("INPLAY_AUTH_PROTECT_READS", "true"),
        ("INPLAY_WEBSOCKET_REQUIRE_AUTH", "1"),
        ("INPLAY_CORS_MAX_AGE_MS", "60000"),
        ("INPLAY_RATE_LIMIT_BURST", "7"),
        ("INPLAY_RATE_LIMIT_WRITE_REQUESTS_PER_MINUTE", "5"),
        (
            "INPLAY_RATE_LIMIT_TRUSTED_PROXIES",
            "127.0.0.1, 10.0.0.0/8,::1",
        ),
    ])
    .expect("loads");
    assert_eq!(config.auth.algorithms, ["RS256", "PS256"]);
    assert_eq!(config.auth.leeway, Duration::from_secs(5));
    assert!(config.auth.protect_reads && config.websocket.require_auth);
    assert_eq!(config.cors.max_age, Duration::from_secs(60));
    assert_eq!(config.rate_limit.burst, 7);
    assert_eq!(config.rate_limit.write_requests_per_minute, 5);
    assert_eq!(config.rate_limit.trusted_proxies.len(), 3);
}

#[test]
fn security_keys_are_checked() {
    let text = error_text(&[("INPLAY_AUTH_ALGORITHMS", "HS256,none")]);
    assert!(
        text.contains("auth.algorithms") && text.contains("HS256, HS384"),
        "{text}"
    );
    assert!(error_text(&[("INPLAY_AUTH_ALGORITHMS", "")]).contains("non-empty"));
    let text = error_text(&[("INPLAY_RATE_LIMIT_TRUSTED_PROXIES", "10.0.0.0/33")]);
    assert!(text.contains("rate_limit.trusted_proxies"), "{text}");
    assert!(error_text(&[("INPLAY_RATE_LIMIT_BURST", "0")]).contains("rate_limit.burst"));
    // Mixed public-key types: one key file cannot serve both.
    let text = error_text(&[("INPLAY_AUTH_ALGORITHMS", "RS256,ES256")]);
    assert!(text.contains("one key type"), "{text}");
    // A key file with nothing to use it.
    let text = error_text(&[("INPLAY_AUTH_PUBLIC_KEY_FILE", "/k.pem")]);
    assert!(
        text.contains("auth.public_key_file (from INPLAY_AUTH_PUBLIC_KEY_FILE)"),
        "{text}"
    );
}

#[test]
fn placeholder_secret_needs_dev_mode() {
    let placeholder = security::PLACEHOLDER_SECRET;
    let text = error_text(&[("JWT_SECRET", placeholder)]);
    assert!(text.contains("auth.jwt_secret (from JWT_SECRET)"), "{text}");
    assert!(
        !text.contains(placeholder),
        "the message must not echo a secret: {text}"
    );
    let text = toml_error(&format!("[auth]\njwt_secret = \"{placeholder}\""));
    assert!(text.contains("server.dev_mode"), "{text}");
    let dev = with_env(&[
        ("JWT_SECRET", placeholder),
        ("INPLAY_SERVER_DEV_MODE", "true"),
    ])
    .expect("allowed in dev mode");
    assert_eq!(dev.auth.jwt_secret, placeholder);
}
