//! TLS for the server: a rustls acceptor (ring, TLS 1.2 and 1.3, ALPN `h2` then `http/1.1`)
//! built from a PEM certificate chain and a PEM private key. Owns parsing those two files'
//! contents and the check that they belong together; must not read files (`main` does, so its
//! errors name the file) nor accept connections (`serve` does, with its read timeout).

use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

/// The protocols offered in ALPN, most preferred first. The connection builder detects
/// HTTP/2 by its preface, so both work whichever the client picks.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Why a certificate chain and key cannot serve TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("the certificate file holds no PEM `CERTIFICATE` block")]
    NoCertificate,
    #[error("the certificate file is not valid PEM: {0}")]
    BadCertificate(rustls::pki_types::pem::Error),
    #[error(
        "the key file holds no PEM private key (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`)"
    )]
    NoKey,
    #[error("the key file is not valid PEM: {0}")]
    BadKey(rustls::pki_types::pem::Error),
    #[error("the certificate and key cannot serve TLS: {0}")]
    Unusable(rustls::Error),
}

/// An acceptor for the certificate chain (leaf first) and private key in `cert_pem`/`key_pem`.
pub fn acceptor(cert_pem: &[u8], key_pem: &[u8]) -> Result<TlsAcceptor, TlsError> {
    let certs = certificates(cert_pem)?;
    let key = private_key(key_pem)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Unusable)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(TlsError::Unusable)?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(TlsError::BadCertificate)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    Ok(certs)
}

fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    use rustls::pki_types::pem::Error;
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        Error::NoItemsFound => TlsError::NoKey,
        e => TlsError::BadKey(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pair {
        cert: String,
        key: String,
    }

    fn pair() -> Pair {
        let c = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        Pair {
            cert: c.cert.pem(),
            key: c.signing_key.serialize_pem(),
        }
    }

    /// What `acceptor` makes of each (certificate, key) input: `Ok` or the error's start.
    #[test]
    fn acceptor_accepts_a_matching_pair_and_names_what_is_wrong_otherwise() {
        let a = pair();
        let b = pair();
        let chain = format!("{}{}", a.cert, b.cert);
        let cut = &a.cert[..a.cert.len() / 2];
        let cases: [(&str, &str, &str, Result<(), &str>); 8] = [
            ("matching pair", &a.cert, &a.key, Ok(())),
            ("chain, leaf first", &chain, &a.key, Ok(())),
            (
                "key of another cert",
                &a.cert,
                &b.key,
                Err("the certificate and key cannot"),
            ),
            (
                "empty cert",
                "",
                &a.key,
                Err("the certificate file holds no PEM"),
            ),
            (
                "key as cert",
                &a.key,
                &a.key,
                Err("the certificate file holds no PEM"),
            ),
            (
                "truncated cert",
                cut,
                &a.key,
                Err("the certificate file is not valid PEM"),
            ),
            (
                "cert as key",
                &a.cert,
                &a.cert,
                Err("the key file holds no PEM"),
            ),
            (
                "garbage key",
                &a.cert,
                "not pem at all",
                Err("the key file holds no PEM"),
            ),
        ];
        for (name, cert, key, want) in cases {
            let got = acceptor(cert.as_bytes(), key.as_bytes()).map(|_| ());
            match (got, want) {
                (Ok(()), Ok(())) => {}
                (Err(e), Err(start)) => {
                    assert!(e.to_string().starts_with(start), "{name}: {e}")
                }
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn acceptor_offers_h2_then_http11() {
        let a = pair();
        let acc = acceptor(a.cert.as_bytes(), a.key.as_bytes()).unwrap();
        assert_eq!(
            acc.config().alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }
}
