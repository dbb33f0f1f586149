//! `eio serve --tls-cert FILE --tls-key FILE` end to end: PEM files made in
//! the test (a CA and a server certificate it issued, rcgen), the server on
//! 127.0.0.1, and `eio connect --ca` over https polling, wss, and polling
//! then the upgrade; without `--ca` the connection fails. Bad or missing
//! files are refused with a message naming the file.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::{EIO, Scratch, Serve};

/// PEM files: the CA (`ca.pem`), the server's certificate (`cert.pem`)
/// for 127.0.0.1, and its key (`key.pem`).
fn pem_files(dir: &Scratch) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    (
        dir.write("ca.pem", &ca.pem()),
        dir.write("cert.pem", &cert.pem()),
        dir.write("key.pem", &key.serialize_pem()),
    )
}

/// `eio serve --port 0` over TLS with these PEM files; killed on drop.
fn tls_serve(cert: &Path, key: &Path) -> Serve {
    Serve::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ])
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(EIO)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn serve_over_tls_answers_connect_with_the_ca_on_every_transport() {
    let dir = Scratch::new();
    let (ca, cert, key) = pem_files(&dir);
    let serve = tls_serve(&cert, &key);
    assert!(serve.url.starts_with("https://127.0.0.1:"), "{}", serve.url);
    let ca = ca.to_str().unwrap();
    for transport in ["polling", "websocket", "auto"] {
        let output = run(&[
            "connect",
            &serve.url,
            "--ca",
            ca,
            "--transport",
            transport,
            "--send",
            "over tls ✓",
            "--count",
            "1",
        ]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{transport}: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            stdout.lines().collect::<Vec<_>>(),
            ["over tls ✓"],
            "{transport}"
        );
        let connect = serve.next_line();
        assert!(connect.starts_with("connect "), "{connect}");
        let disconnect = serve.next_line();
        assert!(disconnect.starts_with("disconnect "), "{disconnect}");
    }

    // Without the CA, the certificate is not trusted.
    let output = run(&["connect", &serve.url, "--send", "x", "--count", "1"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr).to_lowercase();
    assert!(
        stderr.contains("tls") || stderr.contains("certificate"),
        "{stderr}"
    );
}

#[test]
fn bad_or_missing_tls_files_are_named() {
    let dir = Scratch::new();
    let (_ca, cert, key) = pem_files(&dir);
    let not_pem = dir.write("not.pem", "hello\n");
    let missing = dir.0.join("missing.pem");
    let cases: [(&Path, &Path, &Path, &str); 3] = [
        (&missing, &key, &missing, "cannot read"),
        (&not_pem, &key, &not_pem, "no PEM certificate"),
        (&cert, &cert, &cert, "no PEM private key"),
    ];
    for (cert_arg, key_arg, named, says) in cases {
        let output = Command::new(EIO)
            .args(["serve", "--port", "0", "--tls-cert"])
            .arg(cert_arg)
            .arg("--tls-key")
            .arg(key_arg)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(
            stderr.contains(&named.display().to_string()) && stderr.contains(says),
            "{stderr}"
        );
    }
    // The two options go together.
    let output = Command::new(EIO)
        .args(["serve", "--port", "0", "--tls-cert"])
        .arg(&cert)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--tls-key"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
