//! The exhaustion suite (issue 15): silent connections, slowloris, idle HTTP/2, keep-alive
//! floods from one address and bodies past a small budget, each at small limits so a case
//! takes seconds. Throughout each attack a legitimate client on another loopback address
//! (127.0.0.2) is answered, and afterwards every attacking connection has been closed by
//! the server (or answered) and the attacker's address is served again.

use crate::edge::{H2_HELLO, connect_from, held_body, served_from, until_closed};
use crate::harness::Server;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const ATTACKER: &str = "127.0.0.1";
const LEGIT: &str = "127.0.0.2";
/// Longest wait for the server to close an attacking connection (the limits are < 1 s).
const CLOSE_WAIT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy)]
enum Attack {
    /// Connections that never send a byte.
    Silent,
    /// Request heads trickled a byte at a time, never finished.
    Slowloris,
    /// HTTP/2 preface and SETTINGS, then nothing.
    IdleHttp2,
    /// One request per connection, then kept alive and idle.
    KeepAliveFlood,
    /// Declared bodies of the largest size, started and never finished.
    HeldBodies,
}

struct Case {
    attack: Attack,
    connections: usize,
    /// Whether the server answers before it closes (408 for slowloris and held bodies).
    answered: bool,
}

const LIMITS: &[&str] = &[
    "--connections-max",
    "24",
    "--connections-per-source-max",
    "12",
    "--request-read-timeout-ms",
    "800",
    "--keep-alive-idle-ms",
    "400",
    "--body-bytes-max",
    "1000",
    "--request-bodies-bytes-max",
    "3000",
];

/// Opens one attacking connection and does its part.
async fn open(attack: Attack, s: &Server) -> TcpStream {
    match attack {
        Attack::Silent => connect_from(ATTACKER, &s.addr).await,
        Attack::Slowloris => {
            let mut c = connect_from(ATTACKER, &s.addr).await;
            let _ = c
                .write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n")
                .await;
            c
        }
        Attack::IdleHttp2 => {
            let mut c = connect_from(ATTACKER, &s.addr).await;
            let _ = c.write_all(H2_HELLO).await;
            c
        }
        Attack::KeepAliveFlood => {
            let mut c = connect_from(ATTACKER, &s.addr).await;
            let get = b"GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: x\r\n\r\n";
            let _ = c.write_all(get).await;
            c
        }
        Attack::HeldBodies => {
            let auth = format!("Authorization: Bearer {}\r\n", s.token);
            held_body(&s.addr, "/scim/v2/Users", &auth, 1000).await
        }
    }
}

/// Keeps trickling one header byte every 100 ms to every slowloris connection, for `d`.
async fn trickle(conns: &mut [TcpStream], d: Duration) {
    let end = tokio::time::Instant::now() + d;
    while tokio::time::Instant::now() < end {
        for c in conns.iter_mut() {
            let _ = c.write_all(b"X").await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn run(case: &Case) {
    let s = Server::start_with(LIMITS);
    let mut conns = Vec::new();
    for _ in 0..case.connections {
        conns.push(open(case.attack, &s).await);
    }
    // During the attack: the legitimate client is answered, again and again.
    for round in 0..3 {
        assert!(
            served_from(LEGIT, &s.addr).await,
            "{:?}: round {round}",
            case.attack
        );
        if matches!(case.attack, Attack::Slowloris) {
            trickle(&mut conns, Duration::from_millis(300)).await;
        }
    }
    // Afterwards every attacking connection has been closed by the server.
    for (i, c) in conns.iter_mut().enumerate() {
        let got = until_closed(c, CLOSE_WAIT).await;
        let got = got.unwrap_or_else(|| panic!("{:?}: connection {i} still open", case.attack));
        if case.answered {
            let text = String::from_utf8_lossy(&got);
            assert!(
                text.is_empty() || text.starts_with("HTTP/1.1 "),
                "{:?}: {text}",
                case.attack
            );
        }
    }
    assert!(
        served_from(ATTACKER, &s.addr).await,
        "{:?}: the attacker's address again",
        case.attack
    );
    assert!(
        served_from(LEGIT, &s.addr).await,
        "{:?}: afterwards",
        case.attack
    );
}

#[tokio::test]
async fn a_legitimate_client_is_answered_through_every_attack() {
    let cases = [
        Case {
            attack: Attack::Silent,
            connections: 40,
            answered: false,
        },
        Case {
            attack: Attack::Slowloris,
            connections: 20,
            answered: true,
        },
        Case {
            attack: Attack::IdleHttp2,
            connections: 40,
            answered: false,
        },
        Case {
            attack: Attack::KeepAliveFlood,
            connections: 40,
            answered: true,
        },
        Case {
            attack: Attack::HeldBodies,
            connections: 12,
            answered: true,
        },
    ];
    for case in &cases {
        run(case).await;
    }
}

#[tokio::test]
async fn held_bodies_past_the_budget_are_refused_and_the_budget_comes_back() {
    let s = Server::start_with(LIMITS);
    let auth = format!("Authorization: Bearer {}\r\n", s.token);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(held_body(&s.addr, "/scim/v2/Users", &auth, 1000).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = held_body(&s.addr, "/scim/v2/Users", &auth, 1000).await;
    let refused = until_closed(&mut extra, CLOSE_WAIT)
        .await
        .unwrap_or_default();
    assert!(
        refused.starts_with(b"HTTP/1.1 503"),
        "{}",
        String::from_utf8_lossy(&refused)
    );
    // The held bodies time out (408) and give their bytes back: a body fits again.
    for c in &mut held {
        let got = until_closed(c, CLOSE_WAIT).await.unwrap_or_default();
        assert!(
            got.starts_with(b"HTTP/1.1 408"),
            "{}",
            String::from_utf8_lossy(&got)
        );
    }
    let r = s
        .post("/Users", serde_json::json!({"userName": "after"}))
        .await;
    assert_eq!(r.status, hyper::StatusCode::CREATED);
}
