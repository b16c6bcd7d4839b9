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

/// A file under the temp dir holding `contents`, unique to this test process.
fn secret_file(name: &str, contents: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("inplay-secret-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).expect("write a secret file");
    path.to_string_lossy().into_owned()
}

#[test]
fn secrets_are_read_from_files_without_their_line_end() {
    let jwt = secret_file("jwt", b"s3cret-from-a-file\r\n");
    let pg = secret_file("pg", b"db pass\n\n");
    let redis = secret_file("redis", b"redis://:pw@cache:6379/0\n");
    let config = with_env(&[
        ("INPLAY_AUTH_JWT_SECRET_FILE", &jwt),
        ("INPLAY_POSTGRES_PASSWORD_FILE", &pg),
        ("INPLAY_REDIS_URL_FILE", &redis),
    ])
    .expect("loads");
    assert_eq!(config.auth.jwt_secret, "s3cret-from-a-file");
    assert_eq!(config.postgres.password, "db pass");
    assert_eq!(config.redis.url, "redis://:pw@cache:6379/0");
    // The default password is not "set": the file simply replaces it. Debug shows no secret.
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("s3cret") && !shown.contains("db pass") && !shown.contains(":pw@"),
        "{shown}"
    );
    assert!(
        shown.contains("redis://:<redacted>@cache:6379/0"),
        "{shown}"
    );
}

#[test]
fn unusable_secret_files_name_the_key_and_file_not_the_secret() {
    let text = error_text(&[("INPLAY_AUTH_JWT_SECRET_FILE", "/nonexistent/jwt")]);
    assert!(
        text.starts_with("cannot use auth.jwt_secret_file /nonexistent/jwt")
            && text.contains("INPLAY_AUTH_JWT_SECRET_FILE"),
        "{text}"
    );
    let empty = secret_file("empty", b"\n");
    let text = error_text(&[("INPLAY_POSTGRES_PASSWORD_FILE", &empty)]);
    assert!(
        text.contains("postgres.password_file") && text.ends_with("it is empty"),
        "{text}"
    );
    let not_utf8 = secret_file("binary", &[0xff, 0xfe, b'\n']);
    let text = error_text(&[("INPLAY_AUTH_JWT_SECRET_FILE", &not_utf8)]);
    assert!(text.contains("not UTF-8"), "{text}");
    let not_url = secret_file("not-url", b"password123\n");
    let text = error_text(&[("INPLAY_REDIS_URL_FILE", &not_url)]);
    assert!(
        text.contains("no Redis URL") && !text.contains("password123"),
        "{text}"
    );
    // Both a secret and its file: ambiguous, refused.
    let jwt = secret_file("both", b"from-file\n");
    let text = error_text(&[
        ("JWT_SECRET", "from-env"),
        ("INPLAY_AUTH_JWT_SECRET_FILE", &jwt),
    ]);
    assert!(
        text.contains("auth.jwt_secret (from JWT_SECRET) is set too") && !text.contains("from-env"),
        "{text}"
    );
    // The placeholder is refused from a file as from the environment.
    let placeholder = secret_file("placeholder", security::PLACEHOLDER_SECRET.as_bytes());
    let text = error_text(&[("INPLAY_AUTH_JWT_SECRET_FILE", &placeholder)]);
    assert!(
        text.contains(&format!("auth.jwt_secret (in {placeholder})"))
            && text.contains("server.dev_mode"),
        "{text}"
    );
    let text = toml_error("[auth]\njwt_secret_file = 5");
    assert!(text.contains("auth.jwt_secret_file"), "{text}");
}

#[test]
fn tls_is_off_by_default_and_loads_from_the_environment() {
    let config = with_env(&[]).expect("defaults load");
    assert!(!config.tls.enabled());
    assert_eq!(config.tls.min_version, "1.2");
    let config = with_env(&[
        ("INPLAY_TLS_CERT_FILE", "/etc/inplay/cert.pem"),
        ("INPLAY_TLS_KEY_FILE", "/etc/inplay/key.pem"),
        ("INPLAY_TLS_MIN_VERSION", "1.3"),
    ])
    .expect("loads");
    assert!(config.tls.enabled());
    assert_eq!(config.tls.cert_file, "/etc/inplay/cert.pem");
    assert_eq!(config.tls.key_file, "/etc/inplay/key.pem");
    assert_eq!(config.tls.min_version, "1.3");
}

#[test]
fn tls_needs_both_files_and_a_known_version() {
    let text = error_text(&[("INPLAY_TLS_CERT_FILE", "/c.pem")]);
    assert!(
        text.contains("tls.key_file") && text.contains("tls.cert_file is set"),
        "{text}"
    );
    let text = error_text(&[("INPLAY_TLS_KEY_FILE", "/k.pem")]);
    assert!(
        text.starts_with("invalid value \"\" for tls.cert_file"),
        "{text}"
    );
    let text = error_text(&[("INPLAY_TLS_MIN_VERSION", "1.1")]);
    assert!(
        text.contains("tls.min_version") && text.contains("1.2, 1.3"),
        "{text}"
    );
    let text = toml_error("[tls]\ncert_file = \"/c.pem\"\nkey = \"/k.pem\"");
    assert!(text.contains("tls.key"), "{text}");
}
