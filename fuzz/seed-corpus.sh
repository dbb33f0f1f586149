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
echo "seeded: $(ls corpus/decode_packet | wc -l) packet, $(ls corpus/decode_payload | wc -l) payload, $(ls corpus/decode_handshake | wc -l) handshake"
