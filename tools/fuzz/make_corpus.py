#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora under fuzz/corpus/<target>/ (docs/fuzzing.md).

Every seed is in its target's input format (see the comment at the top of
fuzz/<target>_fuzz.cpp): real frames, payloads, requests, configs and tokens, plus
near-valid variants one step from valid. Deterministic: re-running rewrites the same
files. Inputs found by fuzzing (regressions) are committed next to these as
fuzz/corpus/<target>/regress-*, and this script leaves them alone.
"""
import base64
import hashlib
import hmac
import json
import os
import struct
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corpus = os.path.join(root, "fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# -- ws_frame: byte 0 = limit (bits 0-1: 16, 125, 4096, 65536) | (read size - 1) << 2 ----------
def frame(op, payload, fin=True, masked=True, rsv=0, key=b"\x37\xfa\x21\x3d", wide=False):
    if isinstance(payload, str):
        payload = payload.encode()
    b0 = (0x80 if fin else 0) | rsv << 4 | op
    n = len(payload)
    mbit = 0x80 if masked else 0
    if wide:  # a 64-bit length for a short payload: legal, if not minimal
        head = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    elif n < 126:
        head = bytes([b0, mbit | n])
    elif n < 65536:
        head = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def ws_prefix(limit_index, piece):
    return bytes([limit_index | (piece - 1) << 2])


identify = json.dumps({"op": 2, "d": {"token": "Bot abc.def.ghi", "intents": 33281,
                                      "properties": {"os": "linux", "browser": "discord.js",
                                                     "device": "discord.js"}}})
heartbeat = '{"op":1,"d":null}'

ws_seeds = {
    "text-hello": ws_prefix(2, 64) + frame(1, "hello"),
    "identify-1byte-reads": ws_prefix(2, 1) + frame(1, identify),
    "heartbeat-then-close": ws_prefix(2, 7) + frame(1, heartbeat) + frame(8, b"\x03\xe8bye"),
    "fragmented-with-ping": ws_prefix(2, 3) + frame(1, '{"op":1,', fin=False) + frame(9, "p")
    + frame(0, '"d":', fin=False) + frame(0, "7}"),
    "pong-empty": ws_prefix(1, 64) + frame(10, b""),
    "len16": ws_prefix(3, 13) + frame(1, "x" * 300),
    "len64": ws_prefix(3, 64) + frame(1, "y" * 20, wide=True),
    "too-big": ws_prefix(0, 5) + frame(1, "z" * 40) + frame(1, "ok"),
    "too-big-fragmented": ws_prefix(0, 64) + frame(1, "a" * 10, fin=False) + frame(0, "b" * 10),
    "binary": ws_prefix(2, 64) + frame(2, b"\x00\x01\x02") + frame(1, "after"),
    "unmasked": ws_prefix(2, 64) + frame(1, "hi", masked=False),
    "rsv-bit": ws_prefix(2, 64) + frame(1, "hi", rsv=4),
    "reserved-opcode": ws_prefix(2, 64) + frame(3, "hi"),
    "control-fragmented": ws_prefix(2, 64) + frame(9, "p", fin=False),
    "control-too-long": ws_prefix(2, 64) + frame(9, "p" * 126),
    "continuation-first": ws_prefix(2, 64) + frame(0, "x"),
    "text-inside-message": ws_prefix(2, 64) + frame(1, "a", fin=False) + frame(1, "b"),
    "len-top-bit": ws_prefix(2, 64) + bytes([0x81, 0xff]) + b"\x80" + b"\x00" * 7 + b"abcd",
}
for name, data in ws_seeds.items():
    write("ws_frame", name, data)

# -- gateway: first line query, then messages and !events ----------------------------------
resume = json.dumps({"op": 6, "d": {"token": "Bot abc.def.ghi", "session_id": "0123456789abcdef",
                                    "seq": 42}})
gw_seeds = {
    "identify-ready-heartbeat": ["v=10&encoding=json", identify, "!opened", heartbeat,
                                 '{"op":1,"d":5}', "!tick41000", "!tick6000", heartbeat],
    "identify-bad-token": ["v=10&encoding=json", identify, "!idfail"],
    "identify-unavailable": ["v=10", identify, "!idunavailable"],
    "identify-shard": ["v=10&encoding=json&compress=zlib-stream",
                       '{"op":2,"d":{"token":"t","intents":1,"shard":[1,4],"large_threshold":300}}',
                       "!opened"],
    "identify-bad-shard": ["v=10", '{"op":2,"d":{"token":"t","intents":1,"shard":[4,4]}}'],
    "identify-bad-intents": ["v=10", '{"op":2,"d":{"token":"t","intents":-1}}'],
    "identify-twice": ["v=10", identify, "!opened", identify],
    "resume-ok": ["v=10&encoding=json", resume, "!resumed", heartbeat],
    "resume-invalid-then-identify": ["v=10", resume, "!resinvalid", identify, "!opened"],
    "resume-seq": ["v=10", resume, "!resseq"],
    "resume-token": ["v=10", resume, "!restoken"],
    "resume-null-seq": ["v=10", '{"op":6,"d":{"token":"t","session_id":"s","seq":null}}'],
    "ignored-ops": ["v=10", identify, "!opened", '{"op":3,"d":{}}', '{"op":4,"d":{}}',
                    '{"op":8,"d":{}}', '{"op":31,"d":{}}'],
    "op-before-identify": ["v=10", '{"op":3,"d":{}}'],
    "unknown-op": ["v=10", '{"op":99}'],
    "bad-json": ["v=10", '{"op":1,'],
    "not-object": ["v=10", "[1,2]"],
    "op-float": ["v=10", '{"op":1.5}'],
    "bad-version": ["v=9"],
    "bad-encoding": ["v=10&encoding=etf"],
    "heartbeat-timeout": ["v=10", "!tick46250", "!tick5000"],
    "drain-then-identify": ["v=10", "!drain", identify],
    "drain-resume": ["v=10", "!drain", resume, "!resumed", "!closeresumable"],
    "overflow": ["v=10", identify, "!opened", "!overflow", heartbeat],
    "revoked": ["v=10", identify, "!opened", "!revoked"],
    "transport-errors": ["v=10", "!toobig", "!binary", "!badframe"],
    "peer-closed": ["v=10", identify, "!peerclosed", "!opened", heartbeat],
    "too-big": ["v=10", '{"op":1,"d":"' + "x" * 4100 + '"}'],
}
for name, lines in gw_seeds.items():
    write("gateway", name, "\n".join(lines))

# -- rest_body: byte 0 = 0 create, 1 edit, | 2 also encode raw --------------------------------
rest_seeds = {
    "create": (0, '{"content":"hello <@1001>","nonce":"1234","tts":false}'),
    "create-int-nonce": (0, '{"content":"hi","nonce":1234567890123}'),
    "create-empty-body": (0, ""),
    "create-null": (0, '{"content":null}'),
    "create-number": (0, '{"content":5}'),
    "create-tts-string": (0, '{"content":"hi","tts":"yes"}'),
    "create-unicode": (2, '{"content":"caf\\u00e9 \\ud83d\\ude00 \u00e9"}'),
    "create-2000": (0, json.dumps({"content": "\u00e9" * 2000})),
    "create-2001": (0, json.dumps({"content": "e" * 2001})),
    "create-array": (0, "[]"),
    "create-trailing": (0, '{"content":"a"} x'),
    "edit": (1, '{"content":"edited"}'),
    "edit-empty": (1, '{"content":""}'),
    "raw-invalid-utf8": (3, b'\xff\xfe\xc3(\xe2\x82\xed\xa0\x80\xf4\x90\x80\x80\x00\x1f"\\'),
}
for name, (mode, body) in rest_seeds.items():
    write("rest_body", name, bytes([mode]) + (body if isinstance(body, bytes) else body.encode()))

# -- http_request: byte 0 = body limit (bit 0: 64 bytes) | (read size - 1) << 1 ------------------
def http_prefix(small_limit, piece):
    return bytes([(1 if small_limit else 0) | (piece - 1) << 1])


post_body = '{"content":"hello"}'
http_seeds = {
    "get-gateway": (False, 128, "GET /api/v10/gateway HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                    "User-Agent: DiscordBot (https://discord.js.org, 14.0)\r\n\r\n"),
    "post-message": (False, 17, "POST /api/v10/channels/123/messages HTTP/1.1\r\nHost: h\r\n"
                     "Authorization: Bot abc.def.ghi\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(post_body)}\r\n\r\n{post_body}"),
    "post-chunked": (False, 5, "POST /api/v10/channels/123/messages HTTP/1.1\r\nHost: h\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"con\r\nE\r\ntent\":\"hello\"}\r\n"
                     "0\r\n\r\n"),
    "pipelined": (False, 9, "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"
                  "GET /readyz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
    "websocket-upgrade": (False, 128, "GET /?v=10&encoding=json HTTP/1.1\r\nHost: h\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n"),
    "http10": (False, 128, "GET /metrics HTTP/1.0\r\n\r\n"),
    "body-over-limit": (True, 128, "POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + "a" * 100),
    "chunked-over-limit": (True, 128, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "50\r\n" + "b" * 80 + "\r\n0\r\n\r\n"),
    "te-and-cl": (False, 128, "POST /x HTTP/1.1\r\nContent-Length: 4\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    "te-gzip": (False, 128, "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"
                "POST /y HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
    "te-chunked-identity": (False, 128, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked, identity"
                            "\r\n\r\n0\r\n\r\n"),
    "header-too-big": (False, 128, "GET / HTTP/1.1\r\nX-Big: " + "h" * 9000 + "\r\n\r\n"),
    "bad-target": (False, 128, "GET  HTTP/1.1\r\n\r\n"),
    "obs-fold": (False, 128, "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"),
    "two-content-lengths": (False, 128, "POST / HTTP/1.1\r\nContent-Length: 1\r\n"
                            "Content-Length: 2\r\n\r\nab"),
}
for name, (small, piece, text) in http_seeds.items():
    write("http_request", name, http_prefix(small, piece) + text.encode())

# -- zlib_stream: byte 0 params (0 = node defaults), then (length byte, bytes)* -------------------
def zmessages(params, *messages):
    out = bytes([params])
    for m in messages:
        m = m.encode() if isinstance(m, str) else m
        out += bytes([min(len(m), 255)]) + m[:255]
    return out


dispatch = ('{"t":"MESSAGE_CREATE","s":7,"op":0,"d":{"id":"1234","channel_id":"55",'
            '"content":"hi","author":{"id":"1001","username":"alice"}}}')
zlib_seeds = {
    "hello-dispatches": zmessages(0, '{"op":10,"d":{"heartbeat_interval":41250}}', dispatch,
                                  dispatch, '{"op":11}'),
    "empty-messages": zmessages(0, "", "", "x", ""),
    "binary": zmessages(0, bytes(range(256))[:200], bytes(range(255, 0, -1))[:200]),
    "window15-level9": zmessages(0xF6, dispatch * 1, "a" * 255, "a" * 255),
    "level0": zmessages(0x07, dispatch, dispatch),
}
for name, data in zlib_seeds.items():
    write("zlib_stream", name, data)

# -- config: TOML files -------------------------------------------------------------------------
config_seeds = {
    "documented": """[node]
name = "herald-1"
data_dir = "/var/lib/herald/herald-1"
roles = ["gateway", "guild"]

[admin]
listen = "127.0.0.1:9100"

[gateway]
listen = "0.0.0.0:8080"
public_url = "wss://chat.example.com"
threads = 1
heartbeat_interval_ms = 41250

[identity]
secret_file = "/etc/herald/token.secret"

[store]
sync = "full"

[cluster]
listen = "10.0.0.5:4370"

[runtime]
scheduler_threads = 0
scheduler_idle_poll_us = 0
scheduler_idle_wake_us = 1000
shutdown_timeout_ms = 10000

[log]
level = "info"
format = "text"
""",
    "empty": "",
    "dotted": 'node.name = "n"\ngateway.flush_delay_us = 0\nstore.sync = "normal"\n',
    "inline-table": 'gateway = { listen = "127.0.0.1:0", threads = 2 }\n',
    "escapes": 'identity.secret_file = "a\\tb\\u0001c\\"d\\\\e"\nnode.name = \'\'\'multi\nline\'\'\'\n',
    "unknown-key": '[gateway]\nlisten = "127.0.0.1:1"\nlisen = 1\n',
    "unknown-section": "[nope]\nx = 1\n",
    "wrong-type": "[gateway]\nthreads = \"2\"\n",
    "out-of-range": "[gateway]\nthreads = 65\n",
    "bad-syntax": "[gateway\nthreads = 1\n",
    "bad-url": '[gateway]\npublic_url = "http://x"\n',
    "short-secret": '[identity]\nsecret = "short"\n',
    "roles-mixed": 'node.roles = ["gateway", 3]\n',
    "float": "gateway.threads = 1.0\n",
    "dates": "gateway.threads = 1979-05-27T07:32:00Z\n",
    "deep": "a = " + "[" * 200 + "]" * 200 + "\n",
}
for name, text in config_seeds.items():
    write("config", name, text)

# -- token: the fuzz target's secret and users (fuzz/token_fuzz.cpp) ----------------------------
secret = b"herald-fuzz-secret-0123456789"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(user, issued_at, epoch):
    signed = b64(str(user).encode()) + "." + b64(str(issued_at).encode())
    mac = hmac.new(secret, (signed + "." + str(epoch)).encode(), hashlib.sha256).digest()
    return signed + "." + b64(mac)


alice = token(1001, 1700000000, 0)
bob = token(1002, 1, 1)  # after bob's revoke (epoch 1)
bob_revoked = token(1002, 1700000000, 0)
token_seeds = {
    "alice": alice,
    "alice-bot": "Bot " + alice,
    "alice-bearer-spaces": "  bearer \t" + alice + " \r\n",
    "alice-issued-0": token(1001, 0, 0),
    "bob": bob,
    "bob-revoked": bob_revoked,
    "unknown-user": token(1003, 1700000000, 0),
    "user-zero": token(0, 1700000000, 0),
    "leading-zero-id": b64(b"01001") + "." + alice.split(".", 1)[1],
    "tampered-mac": alice[:-1] + ("A" if alice[-1] != "A" else "B"),
    "padded": alice + "=",
    "two-parts": alice.rsplit(".", 1)[0],
    "four-parts": alice + ".x",
    "noncanonical-b64": alice.split(".")[0][:-1] + "x." + ".".join(alice.split(".")[1:]),
    "negative-time": b64(b"1001") + "." + b64(b"-1") + "." + alice.split(".")[2],
    "long": "Bot " + "A" * 600,
    "empty": "",
}
for name, text in token_seeds.items():
    write("token", name, text)

print(f"seeds written under {os.path.relpath(corpus, root)}", file=sys.stderr)
