//! `eio bench handshakes`: clients each open a polling session and close it
//! (`1` POSTed), over and over on one kept-alive connection; reports
//! sessions per second, the latency of handshake + close, and the server's
//! CPU per session.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use clap::Args;
use http::Method;

use super::Common;
use super::measure::{Window, fairness, latency, run_window};
use super::poll::HttpConn;
use crate::report::{Report, progress};
use crate::wire::Target;

/// Options of `eio bench handshakes`.
#[derive(Debug, Args)]
pub(crate) struct HandshakeArgs {
    #[command(flatten)]
    pub(super) common: Common,
    /// Clients opening and closing sessions at once.
    #[arg(long, default_value_t = 50)]
    clients: usize,
}

/// What one client measured.
#[derive(Debug, Default)]
struct ClientResult {
    samples: Vec<u32>,
    sessions: u64,
    error: Option<String>,
}

/// One handshake and its close.
async fn open_and_close(conn: &mut HttpConn, target: &Target) -> Result<(), String> {
    let sid = conn.handshake(target).await?;
    let uri = target.uri(&format!("EIO=4&transport=polling&sid={sid}"));
    let (status, body) = conn
        .request(Method::POST, &uri, Bytes::from_static(b"1"))
        .await?;
    if status == 200 {
        Ok(())
    } else {
        Err(format!(
            "close answered {status}: {:.80}",
            String::from_utf8_lossy(&body)
        ))
    }
}

/// Runs `eio bench handshakes`.
pub(crate) async fn run(args: HandshakeArgs) -> Result<(), String> {
    if args.clients == 0 {
        return Err("--clients must be at least 1".to_owned());
    }
    let target = Target::parse(&args.common.url, &args.common.path)?;
    let window = Window::after(args.common.warmup(), args.common.duration());
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        let (target, done) = (target.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut result = ClientResult::default();
            let mut conn = match HttpConn::open(&target).await {
                Ok(conn) => conn,
                Err(err) => {
                    result.error = Some(err);
                    return result;
                }
            };
            while !window.over() {
                let began = Instant::now();
                if let Err(err) = open_and_close(&mut conn, &target).await {
                    result.error = Some(err);
                    break;
                }
                if window.counts(began) {
                    result
                        .samples
                        .push(u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX));
                    result.sessions += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            result
        }));
    }
    let watch = progress("handshakes", {
        let done = done.clone();
        move || {
            format!(
                "{} sessions opened and closed",
                done.load(Ordering::Relaxed)
            )
        }
    });
    let (costs, mut results) =
        run_window(window, args.common.server_pid, args.common.threads, tasks).await?;
    watch.abort();

    let sessions: u64 = results.iter().map(|r| r.sessions).sum();
    let errors: Vec<String> = results.iter().filter_map(|r| r.error.clone()).collect();
    let mut samples: Vec<u32> = results
        .iter_mut()
        .flat_map(|r| r.samples.drain(..))
        .collect();
    let mut counts: Vec<u64> = results.iter().map(|r| r.sessions).collect();
    let seconds = costs.elapsed().as_secs_f64();
    let rate = sessions as f64 / seconds;
    let mut report = Report::new("handshakes");
    report.count("clients", args.clients as u64);
    report.float("seconds", seconds);
    report.count("sessions", sessions);
    report.float("per_second", rate);
    report.count("errors", errors.len() as u64);
    report.line(format!(
        "handshakes: {} clients for {seconds:.1} s: {sessions} sessions opened and closed, {rate:.0}/s",
        args.clients
    ));
    latency(&mut report, &mut samples, "handshake + close");
    fairness(&mut report, &mut counts, "sessions");
    costs.add_to(&mut report, sessions, "session");
    report.line(format!("errors: {}", errors.len()));
    report.errors(&errors.into_iter().take(5).collect::<Vec<_>>());
    report.print(args.common.json);
    Ok(())
}
