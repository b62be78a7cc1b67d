//! The request log, connection counting, the connection cap, shutdown.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use auth_sim::Simulator;
use common::{Client, KEY, Style, demo_sim, in_both_styles, wait_until};
use serde_json::json;

#[test]
fn the_request_log_records_method_path_headers_and_body() {
    in_both_styles(demo_sim, |sim, client| {
        let id = client.connect("bob", "pw-b").account_id();
        client.solve(&id, "123456");
        client.get("/accounts");
        let log = sim.requests();
        assert_eq!(log.len(), 3);
        let prefix = client.style.prefix();

        let connect = &log[0];
        assert_eq!(connect.method, "POST");
        assert_eq!(connect.path, format!("{prefix}/accounts"));
        assert_eq!(connect.header("X-API-KEY"), Some(KEY));
        assert_eq!(connect.header("content-type"), Some("application/json"));
        assert_eq!(connect.header("accept"), Some("application/json"));
        assert_eq!(
            connect.body_json(),
            Some(json!({"provider":"MESSENGER","username":"bob","password":"pw-b"}))
        );

        let solve = &log[1];
        assert_eq!(solve.path, format!("{prefix}/accounts/checkpoint"));
        assert_eq!(solve.body_json().unwrap()["account_id"], json!(id));
        assert_eq!(log[2].method, "GET");
        assert!(log[2].body.is_empty());

        sim.clear_requests();
        assert!(sim.requests().is_empty());
    });
}

#[test]
fn the_log_keeps_the_query_and_the_clock_reading() {
    let sim = demo_sim();
    let client = Client::new(&sim, Style::Postpress);
    sim.advance(Duration::from_secs(42));
    client.post("/accounts?trace=1", &json!({}));
    let entry = &sim.requests()[0];
    assert_eq!(entry.path, "/v1/accounts");
    assert_eq!(entry.query.as_deref(), Some("trace=1"));
    assert_eq!(entry.received_at, Duration::from_secs(42));
}

#[test]
fn debug_output_of_a_logged_request_hides_the_api_key() {
    let sim = demo_sim();
    Client::new(&sim, Style::Postpress).connect("alice", "pw-a");
    let entry = &sim.requests()[0];
    let shown = format!("{entry:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert_eq!(entry.header("x-api-key"), Some(KEY), "the data itself is intact");

    Client::new(&sim, Style::Postpress)
        .with_bearer(KEY)
        .connect("alice", "pw-a");
    let bearer = &sim.requests()[1];
    let shown = format!("{bearer:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert_eq!(
        bearer.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[test]
fn the_log_is_bounded_by_its_capacity() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .request_log_capacity(2)
        .start()
        .unwrap();
    let client = Client::new(&sim, Style::Postpress);
    for user in ["alice", "bob", "carol"] {
        client.connect(user, "wrong");
    }
    let users: Vec<String> = sim
        .requests()
        .iter()
        .map(|r| r.body_json().unwrap()["username"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users, ["bob", "carol"]);
}

/// Sends `count` POSTs without an API key (each answered 401, and logged before that) on
/// one keep-alive connection, each with `header_bytes` of filler headers and a body of
/// `body_bytes` starting with its number.
fn send_refused_requests(sim: &Simulator, count: usize, header_bytes: usize, body_bytes: usize) {
    let filler = "h".repeat(3_500);
    let head: String = (0..header_bytes / filler.len())
        .map(|i| format!("x-filler-{i}: {filler}\r\n"))
        .collect();
    let mut stream = TcpStream::connect(sim.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    for n in 0..count {
        let mut body = format!("{n:06}");
        body.push_str(&"b".repeat(body_bytes - body.len()));
        write!(
            stream,
            "POST /v1/accounts HTTP/1.1\r\nhost: sim\r\ncontent-type: application/json\r\n{head}content-length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = Vec::new();
        let mut chunk = [0u8; 4096];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") || !answer.ends_with(b"}") {
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "closed after {} bytes", answer.len());
            answer.extend_from_slice(&chunk[..n]);
        }
        assert!(
            answer.starts_with(b"HTTP/1.1 401"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
}

/// What the log's entries hold: header names and values, and bodies.
fn logged_bytes(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .map(|r| r.headers.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>() + r.body.len())
        .sum()
}

/// The number each request sent by [`send_refused_requests`] carries, in log order.
fn logged_numbers(sim: &Simulator) -> Vec<usize> {
    sim.requests()
        .iter()
        .map(|r| {
            r.body_text()
                .unwrap()
                .get(..6)
                .unwrap_or_else(|| panic!("{r:?}"))
                .parse()
                .unwrap()
        })
        .collect()
}

#[test]
fn the_log_holds_at_most_64_mib_by_default_dropping_the_oldest_first() {
    let sim = Simulator::builder().api_key(KEY).manual_clock().start().unwrap();
    // 200 requests of about 390 KB (95 headers of 3.5 KB, 60 KiB of body): 75 MiB sent.
    send_refused_requests(&sim, 200, 95 * 3_500, 60 * 1024);
    let held = logged_bytes(&sim);
    assert!(held <= 64 * 1024 * 1024, "the log holds {held} bytes");
    let numbers = logged_numbers(&sim);
    assert!(numbers.len() < 200, "{} requests kept", numbers.len());
    let newest: Vec<usize> = (200 - numbers.len()..200).collect();
    assert_eq!(numbers, newest, "the newest requests, in order");
}

#[test]
fn the_log_byte_budget_is_a_setting() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .request_log_max_bytes(100 * 1024)
        .manual_clock()
        .start()
        .unwrap();
    send_refused_requests(&sim, 10, 0, 30 * 1024);
    // Three bodies of 30 KiB fit in 100 KiB, four do not.
    assert_eq!(logged_numbers(&sim), [7, 8, 9]);
    // A request larger than the whole budget is not logged; the others stay.
    send_refused_requests(&sim, 1, 0, 60 * 1024);
    send_refused_requests(&sim, 1, 30 * 3_500, 1024);
    assert_eq!(logged_numbers(&sim), [9, 0]);
}

#[test]
fn keep_alive_requests_share_one_connection() {
    in_both_styles(demo_sim, |sim, client| {
        for _ in 0..5 {
            client.connect("alice", "pw-a");
        }
        assert_eq!(sim.connections_accepted(), 1);
        assert!(sim.requests().iter().all(|r| r.connection == 1));
        let other = Client::new(sim, client.style);
        other.connect("alice", "pw-a");
        assert_eq!(sim.connections_accepted(), 2);
        assert_eq!(sim.requests().last().unwrap().connection, 2);
    });
}

#[test]
fn the_connection_cap_queues_new_connections_instead_of_growing() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .max_connections(1)
        .start()
        .unwrap();
    let idle = TcpStream::connect(sim.addr()).unwrap();
    wait_until("the idle connection to be accepted", || {
        sim.connections_accepted() == 1
    });
    let mut waiting = TcpStream::connect(sim.addr()).unwrap();
    write!(
        waiting,
        "POST /v1/accounts HTTP/1.1\r\nhost: sim\r\nx-api-key: {KEY}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{{}}"
    )
    .unwrap();
    waiting
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 1];
    assert!(waiting.read(&mut buf).is_err(), "answered past the cap");
    assert_eq!(sim.connections_accepted(), 1);
    drop(idle);
    waiting.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = String::new();
    waiting.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(sim.connections_accepted(), 2);
}

#[test]
fn a_connection_cap_of_usize_max_serves_as_no_cap() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .max_connections(usize::MAX)
        .manual_clock()
        .start()
        .unwrap();
    let answer = Client::new(&sim, Style::Postpress).get("/accounts/x");
    answer.assert_error(404, "errors/resource_not_found");
}

/// Reads until the server closes the connection; `false` if it is still open after 10 s.
fn closed_by_the_server(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut ignored = Vec::new();
    match stream.read_to_end(&mut ignored) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn connections_that_send_no_request_head_in_time_are_closed_and_free_their_place() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .max_connections(4)
        .header_read_timeout(Duration::from_millis(200))
        .manual_clock()
        .start()
        .unwrap();
    let starts: [&[u8]; 4] = [
        b"",                                 // nothing at all
        b"POST /v1/acc",                     // half a request line
        b"PRI * HTTP/2.0\r\n",               // half the HTTP/2 preface
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", // the preface, then no request
    ];
    let mut silent: Vec<TcpStream> = starts
        .iter()
        .map(|start| {
            let mut stream = TcpStream::connect(sim.addr()).unwrap();
            stream.write_all(start).unwrap();
            stream
        })
        .collect();
    wait_until("the four connections to be accepted", || {
        sim.connections_accepted() == 4
    });
    // A fifth client waits for a place, and gets one once the silent ones are closed.
    let mut client = TcpStream::connect(sim.addr()).unwrap();
    write!(
        client,
        "GET /v1/accounts/x HTTP/1.1\r\nhost: sim\r\nx-api-key: {KEY}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = String::new();
    client.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    for (stream, start) in silent.iter_mut().zip(starts) {
        assert!(
            closed_by_the_server(stream),
            "still open after sending {:?}",
            String::from_utf8_lossy(start)
        );
    }
}

#[test]
fn the_header_read_timeout_does_not_cut_a_request_held_for_an_in_app_approval() {
    let sim = Simulator::builder()
        .api_key(KEY)
        .header_read_timeout(Duration::from_millis(100))
        .manual_clock()
        .start()
        .unwrap();
    let client = Client::new(&sim, Style::Postpress);
    let id = client.connect("carol", "pw-c").account_id();
    let held = {
        let client = Client::new(&sim, Style::Postpress);
        let id = id.clone();
        std::thread::spawn(move || client.solve(&id, "in_app_validation"))
    };
    wait_until("the solve to be held", || sim.held_requests() == 1);
    // Several timeouts' worth of real time while the request is held.
    std::thread::sleep(Duration::from_millis(500));
    sim.advance(Duration::from_secs(2));
    assert_eq!(held.join().unwrap().status, 201);
}

#[test]
fn dropping_the_simulator_stops_it() {
    let sim = demo_sim();
    let addr = sim.addr();
    let held = TcpStream::connect(addr).unwrap();
    drop(sim);
    assert!(TcpStream::connect(addr).is_err(), "still accepting after drop");
    // Open connections are closed too.
    let mut held = held;
    held.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    assert!(matches!(held.read(&mut buf), Ok(0) | Err(_)));
}

#[test]
fn works_from_inside_another_async_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let port = runtime.block_on(async {
        let sim = Simulator::builder().api_key(KEY).manual_clock().start().unwrap();
        let port = sim.port();
        sim.advance(Duration::from_secs(1));
        drop(sim);
        port
    });
    assert_ne!(port, 0);
}

#[test]
fn many_simulators_run_side_by_side() {
    let sims: Vec<Simulator> = (0..8).map(|_| demo_sim()).collect();
    let mut ports: Vec<u16> = sims.iter().map(Simulator::port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 8);
    for sim in &sims {
        assert_eq!(
            Client::new(sim, Style::Unipile).connect("alice", "pw-a").status,
            201
        );
    }
}

#[test]
fn the_shipped_fixture_files_are_valid_and_show_every_field() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let demo = auth_sim::Fixture::from_file(dir.join("demo.json")).unwrap();
    assert_eq!(demo, auth_sim::Fixture::demo());
    let faults = auth_sim::Fixture::from_file(dir.join("faults.json")).unwrap();
    assert_eq!(faults.accounts().len(), 15);
    assert_eq!(faults.api_keys().len(), 3);
    assert_eq!(
        faults.accounts()[8].checkpoints()[0]
            .alternative()
            .map(auth_sim::Checkpoint::kind),
        Some("2FA")
    );
    // Every field the crate README documents appears in the file.
    let text = std::fs::read_to_string(dir.join("faults.json")).unwrap();
    for field in [
        "api_keys",
        "\"key\"",
        "\"status\"",
        "username",
        "password",
        "provider",
        "checkpoints",
        "source_status",
        "\"type\"",
        "\"code\"",
        "approve_after_ms",
        "\"source\"",
        "public_key",
        "\"data\"",
        "contract_options",
        "\"extra\"",
        "another_way",
        "resend_refused",
        "delay_ms",
        "force_status",
        "force_type",
        "retry_after_s",
        "non_json_body",
        "close_mid_answer",
        "close_without_answer",
        "lose_answer",
        "oversized_body_bytes",
        "redirect_to",
        "\"on\"",
        "\"times\"",
        "qrcode",
    ] {
        assert!(text.contains(field), "fixtures/faults.json does not show {field}");
    }
}
