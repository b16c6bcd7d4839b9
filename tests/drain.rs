//! Graceful shutdown: SIGTERM stops accepting, lets in-flight requests finish, exits 0.

mod common;

use std::time::Duration;

use common::{Client, TestServer};

#[test]
fn request_in_flight_during_sigterm_completes() {
    let mut server = TestServer::start(&[("INPLAY_SERVER_SHUTDOWN_GRACE_MS", "5000")]);
    common::wait_for_matches(&server, 100);
    let tasks = server.get_json("/api/polling/status");
    let task_id = tasks["tasks"][0]["id"].as_str().unwrap().to_owned();

    // Half a request is in flight when the signal arrives...
    let body = format!(r#"{{"taskId":"{task_id}","interval":4000}}"#);
    let (first, rest) = body.split_at(10);
    let mut busy = Client::connect(server.addr);
    busy.send_raw(
        format!(
            "POST /api/polling/update HTTP/1.1\r\nAuthorization: Bearer {}\r\n\
             Content-Length: {}\r\n\r\n{first}",
            common::admin_token(),
            body.len()
        )
        .as_bytes(),
    );
    // ...and an idle keep-alive connection is open.
    let mut idle = Client::connect(server.addr);
    idle.send("GET", "/health", None);
    assert_eq!(idle.read_response().status, 200);

    std::thread::sleep(Duration::from_millis(200));
    server.terminate();
    std::thread::sleep(Duration::from_millis(300));

    // The idle connection is closed at once; the busy one completes.
    assert!(idle.closed());
    busy.send_raw(rest.as_bytes());
    let r = busy.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["success"], true);
    assert_eq!(r.header("connection"), Some("close"));

    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
}
