//! Start-up refusals: each is one line on stderr naming what to change, and a distinct exit code.

mod common;

use std::process::{Command, Output};

fn inplay(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inplay"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("INPLAY_SERVER_HOST", "127.0.0.1")
        .args(args);
    // INPLAY_SERVER_PORT would win over the original's PORT, so only set it when PORT is not
    // what the test is about.
    if !env.iter().any(|(k, _)| *k == "PORT") {
        cmd.env("INPLAY_SERVER_PORT", "0");
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    bounded_output(cmd)
}

/// Runs `cmd` to completion, killing it after 15 s: a refusal that regresses into a running
/// server must fail the test, not hang it.
fn bounded_output(mut cmd: Command) -> Output {
    use std::{
        process::Stdio,
        time::{Duration, Instant},
    };
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect output")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn invalid_value_names_the_key_and_variable() {
    let out = inplay(&[], &[("INPLAY_SERVER_SHARDS", "abc")]);
    assert_eq!(out.status.code(), Some(64));
    let err = stderr(&out);
    assert!(
        err.contains("server.shards") && err.contains("INPLAY_SERVER_SHARDS"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let out = inplay(&[], &[("PORT", "99999")]);
    assert_eq!(out.status.code(), Some(64));
    assert!(stderr(&out).contains("PORT"), "{}", stderr(&out));

    let out = inplay(&[], &[("INPLAY_SERVER_SHARDZ", "2")]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        stderr(&out).contains("INPLAY_SERVER_SHARDZ"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_arguments_and_missing_file() {
    let out = inplay(&["--frobnicate"], &[]);
    assert_eq!(out.status.code(), Some(64));
    assert!(stderr(&out).contains("usage"));
    let out = inplay(&["--config", "/nonexistent/inplay.toml"], &[]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        stderr(&out).contains("/nonexistent/inplay.toml"),
        "{}",
        stderr(&out)
    );
    let out = inplay(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--config"));
}

#[test]
fn placeholder_secret_and_bad_key_file_are_refused() {
    let placeholder = "your-secret-key-change-in-production";
    let out = inplay(&[], &[("JWT_SECRET", placeholder)]);
    assert_eq!(out.status.code(), Some(64));
    let err = stderr(&out);
    assert!(
        err.contains("auth.jwt_secret (from JWT_SECRET)") && err.contains("server.dev_mode"),
        "{err}"
    );
    assert!(!err.contains(placeholder), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // An unreadable public key file names the key and the file.
    let out = inplay(
        &[],
        &[
            ("INPLAY_AUTH_ALGORITHMS", "RS256"),
            ("INPLAY_AUTH_PUBLIC_KEY_FILE", "/nonexistent/jwt.pub"),
        ],
    );
    assert_eq!(out.status.code(), Some(64));
    let err = stderr(&out);
    assert!(
        err.contains("auth.public_key_file") && err.contains("/nonexistent/jwt.pub"),
        "{err}"
    );
}

#[test]
fn placeholder_secret_is_allowed_in_dev_mode() {
    let server = common::TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_SERVER_DEV_MODE", "true"),
        (
            "INPLAY_AUTH_JWT_SECRET",
            "your-secret-key-change-in-production",
        ),
    ]);
    assert_eq!(server.get("/health").status, 200);
}

#[test]
fn too_little_locked_memory_says_what_to_change() {
    let bin = env!("CARGO_BIN_EXE_inplay");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -S -l 64 && exec \"$0\"", bin])
        .env("INPLAY_SERVER_HOST", "127.0.0.1")
        .env("INPLAY_SERVER_PORT", "0");
    let out = bounded_output(cmd);
    assert_eq!(out.status.code(), Some(69), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("RLIMIT_MEMLOCK is 64 KiB") && err.contains("ulimit -l"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn busy_port_is_refused_not_shared() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().unwrap().port().to_string();
    let out = inplay(&[], &[("INPLAY_SERVER_PORT", &port)]);
    assert_eq!(out.status.code(), Some(69));
    let err = stderr(&out);
    assert!(
        err.contains("cannot listen") && err.contains(&port),
        "{err}"
    );
}

#[test]
fn restart_on_the_same_port_right_after_a_stop() {
    // Closed connections of the first server linger in TIME-WAIT on its port; a restart must
    // not mistake them for a running server. The first server takes a port of the kernel's
    // choosing (a port picked here and freed could go to a parallel test's server first).
    let env = [
        ("INPLAY_SERVER_PORT", "0"),
        ("INPLAY_DEMO_ENABLED", "false"),
    ];
    let mut first = common::TestServer::start(&env);
    for _ in 0..20 {
        let mut c = common::Client::connect(first.addr);
        c.send_raw(b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert_eq!(c.read_response().status, 200);
    }
    first.terminate();
    assert_eq!(first.wait_exit(std::time::Duration::from_secs(10)), Some(0));
    let port = first.addr.port().to_string();
    let env = [
        ("INPLAY_SERVER_PORT", port.as_str()),
        ("INPLAY_DEMO_ENABLED", "false"),
    ];
    let second = common::TestServer::start(&env);
    assert_eq!(second.get("/health").status, 200);
}

#[test]
fn jwt_secret_from_a_file_and_an_unreadable_one() {
    // The secret with the line end `echo` adds; the server trims it.
    let path = std::env::temp_dir().join(format!("inplay-jwt-secret-{}", std::process::id()));
    std::fs::write(&path, format!("{}\n", common::TEST_SECRET)).expect("write secret file");
    let file = path.to_str().expect("utf-8 path");
    let server = common::TestServer::start(&[
        ("INPLAY_DEMO_ENABLED", "false"),
        ("INPLAY_AUTH_JWT_SECRET", ""),
        ("INPLAY_AUTH_JWT_SECRET_FILE", file),
    ]);
    let body = r#"{"taskId":"nope","interval":5000}"#;
    // Signed with the file's secret: past authentication (the task is unknown: 404).
    let r = server.admin_request("POST", "/api/polling/update", Some(body));
    assert_eq!(r.status, 404, "{}", r.text());
    // Signed with anything else: 401.
    let forged = common::mint_with(
        jsonwebtoken::Algorithm::HS256,
        &serde_json::json!({"sub": "x", "roles": ["admin"], "exp": common::unix_now() + 60}),
        b"some-other-secret-of-the-same-length-0123",
    );
    let auth = format!("Bearer {forged}");
    let r = server.request_with(
        "POST",
        "/api/polling/update",
        Some(body),
        &[("Authorization", &auth)],
    );
    assert_eq!(r.status, 401);
    drop(server);
    let _ = std::fs::remove_file(&path);

    let out = inplay(
        &[],
        &[("INPLAY_AUTH_JWT_SECRET_FILE", "/nonexistent/jwt-secret")],
    );
    assert_eq!(out.status.code(), Some(64));
    let err = stderr(&out);
    assert!(
        err.contains("auth.jwt_secret_file /nonexistent/jwt-secret")
            && err.contains("INPLAY_AUTH_JWT_SECRET_FILE"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn tls_files_that_cannot_be_used_stop_start_up() {
    let dir = std::env::temp_dir().join(format!("inplay-tls-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("write");
    let garbage = garbage.to_str().expect("utf-8 path");
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let cert = dir.join("cert.pem");
    std::fs::write(&cert, made.cert.pem()).expect("write cert");
    let cert = cert.to_str().expect("utf-8 path");
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("INPLAY_TLS_CERT_FILE", "/nonexistent/cert.pem"),
                ("INPLAY_TLS_KEY_FILE", garbage),
            ],
            "cannot use tls.cert_file \"/nonexistent/cert.pem\": No such file",
        ),
        (
            &[
                ("INPLAY_TLS_CERT_FILE", garbage),
                ("INPLAY_TLS_KEY_FILE", garbage),
            ],
            "cannot use tls.cert_file",
        ),
        (
            &[
                ("INPLAY_TLS_CERT_FILE", cert),
                ("INPLAY_TLS_KEY_FILE", garbage),
            ],
            "cannot use tls.key_file",
        ),
        (
            &[("INPLAY_TLS_CERT_FILE", garbage)],
            "for tls.key_file (built-in default): expected a PEM file, since tls.cert_file is set",
        ),
        (&[("INPLAY_TLS_MIN_VERSION", "1.0")], "tls.min_version"),
    ];
    for (env, expected) in cases {
        let out = inplay(&[], env);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(64), "{env:?}: {err}");
        assert!(err.contains(expected), "{env:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
