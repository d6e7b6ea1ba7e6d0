//! `serve --tls-cert --tls-key`: the real binary on HTTPS with a fresh self-signed certificate,
//! asked over HTTP/1.1 and HTTP/2 by a rustls client that trusts only that certificate; what a
//! plain-HTTP or silent client gets; and the clear errors of a bad flag pair or file.

use crate::harness::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto::ring};

/// A self-signed certificate for `localhost` and its key, as PEM files in a temp folder.
struct CertFiles {
    dir: tempfile::TempDir,
    der: CertificateDer<'static>,
}

impl CertFiles {
    fn new() -> CertFiles {
        let c = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cert.pem"), c.cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), c.signing_key.serialize_pem()).unwrap();
        CertFiles {
            der: c.cert.der().clone(),
            dir,
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn start(&self, extra: &[&str]) -> Server {
        let (cert, key) = (self.path("cert.pem"), self.path("key.pem"));
        let mut args = vec!["--tls-cert", cert.to_str().unwrap()];
        args.extend(["--tls-key", key.to_str().unwrap()]);
        args.extend(extra);
        Server::start_with(&args)
    }
    /// A TLS connection to `s` offering `alpn`, trusting only this certificate.
    async fn connect(
        &self,
        s: &Server,
        alpn: &[&[u8]],
    ) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let mut roots = RootCertStore::empty();
        roots.add(self.der.clone()).unwrap();
        let mut config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let tcp = tokio::net::TcpStream::connect(&s.addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .unwrap()
    }
}

fn get(s: &Server, path: &str) -> Request<Empty<Bytes>> {
    Request::get(format!("https://localhost{path}"))
        .header("host", "localhost")
        .header("authorization", format!("Bearer {}", s.token))
        .body(Empty::new())
        .unwrap()
}

/// GET `/scim/v2/ServiceProviderConfig` over HTTP/1.1 on TLS: status and body.
async fn https_get_h1(certs: &CertFiles, s: &Server) -> (StatusCode, Bytes) {
    let tls = certs.connect(s, &[b"http/1.1"]).await;
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let resp = send
        .send_request(get(s, "/scim/v2/ServiceProviderConfig"))
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

// Multi-threaded: `stop` blocks its thread, and the open HTTP/2 client must still answer the
// server's shutdown PING for the graceful close to finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_answers_over_http1_and_h2_and_public_url_defaults_to_https() {
    let certs = CertFiles::new();
    let s = certs.start(&[]);
    let (status, body) = https_get_h1(&certs, &s).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert!(String::from_utf8_lossy(&body).contains("ServiceProviderConfig"));

    let tls = certs.connect(&s, &[b"h2", b"http/1.1"]).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    let resp = send.send_request(get(&s, "/scim/v2/Users")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.version(), hyper::Version::HTTP_2);

    let log = s.log_text_with("cloudsso serving").await;
    let want = format!("scim=https://{}/", s.addr);
    assert!(log.contains(&want), "no `{want}` in {log}");
    assert!(s.stop(), "graceful stop with TLS");
}

#[tokio::test]
async fn an_explicit_public_url_wins_over_the_https_default() {
    let certs = CertFiles::new();
    let s = certs.start(&["--public-url", "https://sso.example.com"]);
    let log = s.log_text_with("cloudsso serving").await;
    assert!(log.contains("scim=https://sso.example.com/"), "{log}");
}

/// Reads from `c` until the server closes it; how long that took.
fn time_to_close(c: &mut std::net::TcpStream) -> Duration {
    let start = Instant::now();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return start.elapsed(),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => panic!("not closed in 10 s"),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => panic!("not closed in 10 s"),
            Err(_) => return start.elapsed(),
        }
    }
}

#[tokio::test]
async fn plain_http_and_stalled_handshakes_are_closed_and_the_server_keeps_serving() {
    let certs = CertFiles::new();
    let s = certs.start(&["--request-read-timeout-ms", "300"]);
    let mut plain = std::net::TcpStream::connect(&s.addr).unwrap();
    plain
        .write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    assert!(time_to_close(&mut plain) < Duration::from_secs(2));

    // Silent clients: each is dropped after the read timeout, below and past it.
    let mut silent = std::net::TcpStream::connect(&s.addr).unwrap();
    let mut hello_only = std::net::TcpStream::connect(&s.addr).unwrap();
    hello_only
        .write_all(&[0x16, 0x03, 0x01, 0x00, 0x80])
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let (status, _) = https_get_h1(&certs, &s).await;
    assert_eq!(status, StatusCode::OK, "served while two handshakes stall");
    for c in [&mut silent, &mut hello_only] {
        let waited = time_to_close(c);
        assert!(waited < Duration::from_secs(3), "closed after {waited:?}");
    }
    let (status, _) = https_get_h1(&certs, &s).await;
    assert_eq!(status, StatusCode::OK);
    assert!(s.stop());
}

/// Runs `serve` with `args` (on a fresh data folder); its exit success and stderr.
fn serve_fails(data: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cloudsso"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn a_lone_flag_or_a_bad_file_is_a_clear_error_at_start() {
    let certs = CertFiles::new();
    let (cert, key) = (certs.path("cert.pem"), certs.path("key.pem"));
    let missing = certs.path("missing.pem");
    std::fs::write(certs.path("junk.pem"), "not a certificate").unwrap();
    let junk = certs.path("junk.pem");
    let other = CertFiles::new();
    let other_key = other.path("key.pem");
    let p = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let cases: [(&str, Vec<String>, &[&str]); 6] = [
        (
            "cert alone",
            vec!["--tls-cert".into(), p(&cert)],
            &["--tls-key"],
        ),
        (
            "key alone",
            vec!["--tls-key".into(), p(&key)],
            &["--tls-cert"],
        ),
        (
            "missing cert file",
            vec![
                "--tls-cert".into(),
                p(&missing),
                "--tls-key".into(),
                p(&key),
            ],
            &["reading", "missing.pem"],
        ),
        (
            "junk cert",
            vec!["--tls-cert".into(), p(&junk), "--tls-key".into(), p(&key)],
            &["junk.pem", "holds no PEM `CERTIFICATE`"],
        ),
        (
            "cert as key",
            vec!["--tls-cert".into(), p(&cert), "--tls-key".into(), p(&cert)],
            &["holds no PEM private key"],
        ),
        (
            "key of another cert",
            vec![
                "--tls-cert".into(),
                p(&cert),
                "--tls-key".into(),
                p(&other_key),
            ],
            &["cannot serve TLS"],
        ),
    ];
    for (name, args, wants) in cases {
        let data = certs.path(&format!("data-{}", name.replace(' ', "-")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, stderr) = serve_fails(&data, &args);
        assert!(!ok, "{name}: started");
        for want in wants {
            assert!(stderr.contains(want), "{name}: no `{want}` in {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(
            !data.exists(),
            "{name}: made the data folder before failing"
        );
    }
}
