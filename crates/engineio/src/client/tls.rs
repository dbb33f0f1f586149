//! The rustls configuration shared by the polling (reqwest) and WebSocket
//! (tokio-tungstenite) transports, on the `ring` provider.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::config::ClientConfig;
use super::error::ConfigError;

/// Builds the TLS client configuration: the Mozilla roots plus the
/// configured PEM roots, or no verification at all when asked.
pub(crate) fn client_config(config: &ClientConfig) -> Result<rustls::ClientConfig, ConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| ConfigError(format!("TLS setup failed: {err}")))?;
    let builder = if config.danger_accept_invalid_certs {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate {
                algorithms: provider.signature_verification_algorithms,
            }))
    } else {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for pem in &config.root_certificates_pem {
            let mut found = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert
                    .map_err(|err| ConfigError(format!("invalid root certificate PEM: {err}")))?;
                roots
                    .add(cert)
                    .map_err(|err| ConfigError(format!("invalid root certificate: {err}")))?;
                found += 1;
            }
            if found == 0 {
                return Err(ConfigError(
                    "root certificate PEM holds no CERTIFICATE block".to_owned(),
                ));
            }
        }
        builder.with_root_certificates(roots)
    };
    match &config.client_identity_pem {
        None => Ok(builder.with_no_client_auth()),
        Some((chain_pem, key_pem)) => {
            let (chain, key) = client_identity(chain_pem, key_pem)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|err| ConfigError(format!("unusable client certificate: {err}")))
        }
    }
}

/// Reads a client certificate chain and its key from PEM.
fn client_identity(
    chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), ConfigError> {
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| ConfigError(format!("invalid client certificate PEM: {err}")))?;
    if chain.is_empty() {
        return Err(ConfigError(
            "client certificate PEM holds no CERTIFICATE block".to_owned(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|err| ConfigError(format!("invalid client key PEM: {err}")))?;
    Ok((chain, key))
}

/// The verifier of `danger_accept_invalid_certs`: any certificate is
/// accepted, but handshake signatures are still checked.
#[derive(Debug)]
struct AcceptAnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientBuilder;

    #[test]
    fn a_client_certificate_must_be_readable() {
        let certified = rcgen::generate_simple_self_signed(vec!["client".to_owned()]).unwrap();
        let good = ClientBuilder::new()
            .client_certificate_pem(certified.cert.pem(), certified.signing_key.serialize_pem())
            .into_config();
        assert!(client_config(&good).is_ok());
        let no_cert = ClientBuilder::new()
            .client_certificate_pem("nothing", certified.signing_key.serialize_pem())
            .into_config();
        let err = client_config(&no_cert).unwrap_err().to_string();
        assert!(err.contains("no CERTIFICATE"), "{err}");
        let no_key = ClientBuilder::new()
            .client_certificate_pem(certified.cert.pem(), "nothing")
            .into_config();
        let err = client_config(&no_key).unwrap_err().to_string();
        assert!(err.contains("client key"), "{err}");
    }

    #[test]
    fn default_config_builds() {
        assert!(client_config(&ClientConfig::default()).is_ok());
        assert!(
            client_config(
                &ClientBuilder::new()
                    .danger_accept_invalid_certs(true)
                    .into_config()
            )
            .is_ok()
        );
    }

    #[test]
    fn pem_without_certificates_is_an_error() {
        let err = client_config(
            &ClientBuilder::new()
                .add_root_certificate_pem("nothing here")
                .into_config(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE"), "{err}");
    }
}
