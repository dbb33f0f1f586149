//! The dispatcher: one task per session that hands events to the handlers,
//! or to the `recv()` queue, one at a time and in order.
//!
//! Running the handlers on their own task keeps a slow handler from
//! delaying the answers to the server's pings, while still delivering
//! messages in the order the server sent them (no task per message).

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedReceiver;

use super::event::DisconnectReason;
use super::event::Event;
use super::shared::{Command, Shared};

tokio::task_local! {
    /// Set while a dispatcher runs, so that `disconnect()` and `wait()`
    /// called from a handler do not wait for the dispatcher itself.
    static IN_DISPATCHER: ();
}

/// Whether the caller runs inside a dispatcher (that is, in a handler).
pub(crate) fn in_dispatcher() -> bool {
    IN_DISPATCHER.try_with(|()| ()).is_ok()
}

/// Delivers every event of `events` until the channel closes.
pub(crate) async fn run(shared: Arc<Shared>, mut events: UnboundedReceiver<Event>) {
    IN_DISPATCHER
        .scope((), async move {
            // Set when the connect handler refused the session: its
            // messages are not delivered, until the next session.
            let mut refused = false;
            while let Some(event) = events.recv().await {
                match &event {
                    Event::Connect => refused = false,
                    Event::Message(_) if refused => {
                        tracing::debug!("message of a refused session not delivered");
                        shared.delivered();
                        continue;
                    }
                    _ => {}
                }
                if !deliver(&shared, event).await {
                    refused = true;
                    refuse(&shared);
                }
            }
        })
        .await;
}

/// Closes the session the connect handler refused.
fn refuse(shared: &Shared) {
    if let Some(commands) = &shared.status.borrow().commands {
        let _ = commands.send(Command::Close {
            abort: false,
            reason: DisconnectReason::ClientDisconnect,
        });
    }
}

/// Gives one event to its handler, else to the `on_event` handler, else to
/// the queue of `recv()`. Returns `false` when the connect handler refused
/// the session.
async fn deliver(shared: &Shared, event: Event) -> bool {
    let handlers = shared.handlers();
    match event {
        Event::Connect if handlers.connect.is_some() => {
            if let Some(h) = &handlers.connect
                && let Some(Err(why)) = h.call((), "connect").await
            {
                tracing::info!("the connect handler refused the session: {why}");
                return false;
            }
        }
        Event::Message(message) if handlers.message.is_some() => {
            if let Some(h) = &handlers.message {
                h.call(message, "message").await;
            }
            shared.delivered();
        }
        Event::Disconnect(reason) if handlers.disconnect.is_some() => {
            if let Some(h) = &handlers.disconnect {
                h.call(reason, "disconnect").await;
            }
        }
        other => match &handlers.event {
            Some(h) => {
                let message = matches!(other, Event::Message(_));
                h.call(other, "event").await;
                if message {
                    shared.delivered();
                }
            }
            // A message stays in the backlog until `recv()` takes it.
            None => shared.enqueue(other),
        },
    }
    true
}
