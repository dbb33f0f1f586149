//! `eio emit`: a message (or a disconnect) for the sessions of `eio serve
//! --redis` nodes, from outside, through their Redis.

use clap::{ArgGroup, Args};
use engineio::Sid;

/// Options of `eio emit`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("target").required(true).args(["to", "all", "disconnect"])))]
pub(crate) struct EmitArgs {
    /// The Redis (or Valkey) the nodes share: redis://[:PASSWORD@]HOST[:PORT][/DB].
    #[arg(long, value_name = "URL")]
    redis: String,
    /// The engine.io path the nodes serve.
    #[arg(long, default_value = "/engine.io/")]
    path: String,
    /// The channel prefix the nodes use.
    #[arg(long, default_value = "engineio")]
    prefix: String,
    /// Send MESSAGE to this session, on whichever node holds it.
    #[arg(long, value_name = "SID", requires = "message")]
    to: Option<Sid>,
    /// Send MESSAGE to every session of every node.
    #[arg(long, requires = "message")]
    all: bool,
    /// With --all: leave this session out (may be repeated).
    #[arg(long, value_name = "SID", requires = "all")]
    except: Vec<Sid>,
    /// Close this session ("server disconnect") on its node.
    #[arg(long, value_name = "SID", conflicts_with = "message")]
    disconnect: Option<Sid>,
    /// MESSAGE is hexadecimal, sent as a binary message.
    #[arg(long)]
    binary: bool,
    /// The message: text, or hexadecimal with --binary.
    message: Option<String>,
}

/// Publishes the command; fails when Redis cannot be reached or no node
/// listens on its channel.
pub(crate) async fn run(args: EmitArgs) -> Result<(), String> {
    let message = match &args.message {
        Some(text) if args.binary => Some(engineio::Message::from(decode_hex(text)?)),
        Some(text) => Some(engineio::Message::from(text.as_str())),
        None => None,
    };
    redis::emit(&args, message).await
}

fn decode_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("--binary: the message must be an even number of hex digits".to_owned());
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| {
                    format!(
                        "--binary: {:?} is not hexadecimal",
                        String::from_utf8_lossy(pair)
                    )
                })
        })
        .collect()
}

#[cfg(feature = "redis")]
mod redis {
    use engineio::Message;
    use engineio::redis::{RedisConfig, RedisEmitter};

    use super::EmitArgs;

    pub(super) async fn emit(args: &EmitArgs, message: Option<Message>) -> Result<(), String> {
        let config = RedisConfig::new(&args.redis)
            .map_err(|err| err.to_string())?
            .channel_prefix(&args.prefix);
        let address = config.address().to_owned();
        let emitter = RedisEmitter::new(config, &args.path);
        let channels = emitter.channels().clone();
        let (result, channel, what) = match (args.to, args.disconnect, message) {
            (Some(sid), _, Some(message)) => (
                emitter.send(sid, message).await,
                channels.for_sid(&sid),
                format!("a message for {sid}"),
            ),
            (_, Some(sid), _) => (
                emitter.disconnect(sid).await,
                channels.for_sid(&sid),
                format!("a disconnect for {sid}"),
            ),
            (_, _, Some(message)) => (
                emitter.broadcast_except(message, &args.except).await,
                channels.all().to_owned(),
                "a broadcast".to_owned(),
            ),
            _ => return Err("a message is needed".to_owned()),
        };
        let nodes = result.map_err(|err| err.to_string())?;
        if nodes == 0 {
            return Err(format!(
                "no node listens on {channel} at {address}: {what} was dropped \
                 (is the node running, with the same --path, on this Redis?)"
            ));
        }
        println!("published {what} to {nodes} node(s) on {channel}");
        Ok(())
    }
}

#[cfg(not(feature = "redis"))]
mod redis {
    use engineio::Message;

    use super::EmitArgs;

    pub(super) async fn emit(_: &EmitArgs, _: Option<Message>) -> Result<(), String> {
        Err(
            "eio emit needs eio built with Redis: cargo build -p eio-cli --features redis"
                .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::decode_hex;

    #[test]
    fn hex_messages() {
        assert_eq!(decode_hex("00ff 10"), Ok(vec![0, 255, 16]));
        assert!(decode_hex("abc").is_err());
        assert!(decode_hex("zz").is_err());
    }
}
