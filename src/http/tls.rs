//! Native TLS (`[tls]`): the certificate and key loaded once at start-up, and the handshake that
//! turns an accepted socket into a [`Stream::Tls`].
//!
//! For deployments without a TLS-terminating proxy. rustls on the ring provider (the one the
//! provider client already uses), through `futures-rustls` on glommio's futures-io socket. With
//! TLS on, the listening port speaks HTTPS and WSS only: there is no sniffing for plaintext, so a
//! plain HTTP request fails its handshake and the connection closes.

use std::{fs, path::Path, sync::Arc, time::Duration};

use futures_lite::future;
use futures_rustls::TlsAcceptor;
use glommio::{net::TcpStream, timer::sleep};
use rustls::{
    pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
    ServerConfig,
};

use super::Stream;
use crate::config::TlsConfig;

/// The only application protocol offered: inplay's HTTP layer speaks HTTP/1.1.
const ALPN_HTTP11: &[u8] = b"http/1.1";

/// The server's TLS settings, built once by `main` and shared by every shard (`None` = off).
///
/// # Errors
/// One line naming the `[tls]` key and file at fault: unreadable, not PEM, no certificate or
/// key in it, or a key that does not fit the certificate.
pub(crate) fn load(config: &TlsConfig) -> Result<Option<Arc<ServerConfig>>, String> {
    if !config.enabled() {
        return Ok(None);
    }
    let chain = read_chain(&config.cert_file)?;
    let key = read_key(&config.key_file)?;
    let versions: &[&rustls::SupportedProtocolVersion] = match config.min_version.as_str() {
        "1.3" => &[&rustls::version::TLS13],
        _ => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| format!("tls.min_version {:?}: {e}", config.min_version))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            format!(
                "tls.key_file {:?} does not fit the certificate in tls.cert_file {:?}: {e}",
                config.key_file, config.cert_file
            )
        })?;
    server.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(Some(Arc::new(server)))
}

/// The certificate chain in `path`, leaf first.
fn read_chain(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let fail = |reason: String| format!("cannot use tls.cert_file {path:?}: {reason}");
    let pem = read(Path::new(path)).map_err(fail)?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("it is not PEM ({e})")))?;
    if chain.is_empty() {
        return Err(fail("it holds no CERTIFICATE in PEM form".into()));
    }
    Ok(chain)
}

/// The private key in `path`.
fn read_key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    let fail = |reason: String| format!("cannot use tls.key_file {path:?}: {reason}");
    let pem = read(Path::new(path)).map_err(fail)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            fail("it holds no PRIVATE KEY in PEM form (PKCS#8, PKCS#1 or SEC1)".into())
        }
        e => fail(format!("it is not PEM ({e})")),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| e.to_string())
}

/// Runs the server side of a TLS handshake on `tcp`, within `timeout` (the header-read timeout:
/// a client that opens a connection and then trickles its hello is a slowloris too).
///
/// # Errors
/// Why the handshake failed (timeout, not TLS, no common version or cipher, ...); the socket is
/// closed by then.
pub(crate) async fn accept(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<Stream, String> {
    let handshake = async {
        match acceptor.accept(tcp).await {
            Ok(tls) => Ok(Stream::Tls(Box::new(tls))),
            Err(e) => Err(e.to_string()),
        }
    };
    let expired = async {
        sleep(timeout).await;
        Err(format!("not finished within {} ms", timeout.as_millis()))
    };
    future::or(handshake, expired).await
}
