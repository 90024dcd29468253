#!/usr/bin/env python3
"""Writes exports.txt: Google Authenticator exports (otpauth-migration://)
encoded here from the protobuf layout the app uses, independently of the
crate's reader. Each line is a case name and one URI (one QR code).

    MigrationPayload { 1: repeated OtpParameters, 2: version, 3: batch_size,
                       4: batch_index, 5: batch_id }
    OtpParameters    { 1: secret, 2: name, 3: issuer, 4: algorithm
                       (1 SHA1, 2 SHA256, 3 SHA512, 4 MD5), 5: digits
                       (1 six, 2 eight), 6: type (1 HOTP, 2 TOTP), 7: counter }

Run it from this folder: python3 make.py
"""
import base64
import urllib.parse

RFC_SHA1 = b"12345678901234567890"
RFC_SHA256 = b"12345678901234567890123456789012"
RFC_SHA512 = RFC_SHA1 * 3 + b"1234"


def varint(value):
    value &= (1 << 64) - 1  # negative int64 as two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, value):
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def key(secret, name, issuer="", algorithm=1, digits=1, kind=2, counter=None):
    body = field(1, secret) + field(2, name)
    if issuer:
        body += field(3, issuer)
    body += field(4, algorithm) + field(5, digits) + field(6, kind)
    if counter is not None:
        body += field(7, counter)
    return body


def export(keys, size=1, index=0, batch_id=-1320320320):
    payload = b"".join(field(1, k) for k in keys)
    payload += field(2, 1) + field(3, size) + field(4, index) + field(5, batch_id)
    data = base64.b64encode(payload).decode()
    return "otpauth-migration://offline?data=" + urllib.parse.quote(data, safe="")


CASES = [
    ("one", export([key(RFC_SHA1, "ACME:alice", "ACME")])),
    (
        "many",
        export(
            [
                key(RFC_SHA1, "alice@example.com", "Example"),
                key(RFC_SHA1, "Counter Co:bob", "", kind=1, counter=5),
                key(RFC_SHA256, "carol", "Bank", algorithm=2, digits=2),
                key(RFC_SHA512, "dave", "Vault", algorithm=3, digits=2),
                key(RFC_SHA1[:10], "erin", "Old Service"),
            ]
        ),
    ),
    ("batch-1-of-2", export([key(RFC_SHA1, "first", "Batch")], size=2, index=0, batch_id=77)),
    ("batch-2-of-2", export([key(RFC_SHA256, "second", "Batch", algorithm=2)], size=2, index=1, batch_id=77)),
    ("batch-2-of-2-other-export", export([key(RFC_SHA1, "x", "Other")], size=2, index=1, batch_id=78)),
    ("md5", export([key(RFC_SHA1, "m", "MD5 Co", algorithm=4)])),
    ("unknown-algorithm", export([key(RFC_SHA1, "u", "U", algorithm=9)])),
    ("unknown-digits", export([key(RFC_SHA1, "d", "D", digits=3)])),
    ("short-secret", export([key(b"12345678", "s", "S")])),
    ("negative-counter", export([key(RFC_SHA1, "n", "N", kind=1, counter=-1)])),
]

with open("exports.txt", "w") as out:
    for name, uri in CASES:
        out.write(f"{name} {uri}\n")
