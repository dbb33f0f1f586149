#!/bin/sh
# Writes a small seed corpus for the fuzz targets into fuzz/corpus/ (git-ignored).
# Usage: sh fuzz/seed-corpus.sh   (from the workspace root or from fuzz/)
set -eu
cd "$(dirname "$0")"
open='0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
json='{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'

mkdir -p corpus/decode_packet corpus/decode_payload corpus/decode_handshake
n=0
for seed in "$open" '1' '2' '2probe' '3' '3probe' '4' '4hello' '4héllo 👋' '5' '6' 'bAQIDBA==' 'bAQIDBA' 'b' '7' '6x'; do
    n=$((n + 1))
    printf '%s' "$seed" > "corpus/decode_packet/seed$n"
done
n=0
for seed in '4hello\0362\0364world' '4hello\036bAQIDBA==' '4héllo\036bAQIDBA==' "$open"'\0366' '2probe\0363probe\0365\0366\0361' '4\0364\0364'; do
    n=$((n + 1))
    printf "$seed" > "corpus/decode_payload/seed$n"
done
n=0
for seed in "$json" '{"sid":"x","upgrades":[],"pingInterval":500,"pingTimeout":250}' '{"sid":"a\u001e\"","upgrades":["websocket","polling"],"pingTimeout":1,"pingInterval":2,"maxPayload":3,"extra":[1,{"a":null}]}'; do
    n=$((n + 1))
    printf '%s' "$seed" > "corpus/decode_handshake/seed$n"
done
# client_ops: a header (transports and max_queue, probe timeout, close timeout),
# then operations (see fuzz_targets/client_ops.rs): a polling handshake
# upgraded to WebSocket, a WebSocket handshake ended by the server, a polling
# close, and a garbage poll body.
mkdir -p corpus/client_ops
n=0
for seed in '\020\144\144\000\044\144\144\000\015\005\006\000\010\000\001\002\004\001\000\010\015\003\021\000\010\000\001\000\023' \
    '\022\144\144\006\000\010\000\000\004\144\144\015\001\021\000\013\000' \
    '\020\144\144\000\000\144\144\002\000\004\015\007\017\004\004\022\377' \
    '\020\144\144\002\005hello'; do
    n=$((n + 1))
    printf "$seed" > "corpus/client_ops/seed$n"
done
echo "seeded: $(ls corpus/decode_packet | wc -l) packet, $(ls corpus/decode_payload | wc -l) payload, $(ls corpus/decode_handshake | wc -l) handshake, $(ls corpus/client_ops | wc -l) client"
