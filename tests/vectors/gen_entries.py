#!/usr/bin/env python3
"""Make tests/vectors/entries.json: entry vectors from an implementation independent of proto/.

Canonical msgpack is written here by hand from the msgpack specification,
signatures by the Python 'cryptography' package, hashes by hashlib, so the C
code is checked against a second reading of DESIGN.md, not against itself.
Run: python3 tests/vectors/gen_entries.py > tests/vectors/entries.json
"""
import hashlib
import json
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization


def mp(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 0x80:
            return bytes([v])
        if v >= 0:
            for tag, fmt, lim in ((0xcc, ">B", 1 << 8), (0xcd, ">H", 1 << 16), (0xce, ">I", 1 << 32), (0xcf, ">Q", 1 << 64)):
                if v < lim:
                    return bytes([tag]) + struct.pack(fmt, v)
        if v >= -32:
            return struct.pack(">b", v)
        for tag, fmt, lim in ((0xd0, ">b", 1 << 7), (0xd1, ">h", 1 << 15), (0xd2, ">i", 1 << 31), (0xd3, ">q", 1 << 63)):
            if v >= -lim:
                return bytes([tag]) + struct.pack(fmt, v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, bytes):
        n = len(v)
        if n < 256:
            return b"\xc4" + bytes([n]) + v
        if n < 65536:
            return b"\xc5" + struct.pack(">H", n) + v
        return b"\xc6" + struct.pack(">I", n) + v
    if isinstance(v, str):
        b = v.encode()
        n = len(b)
        if n < 32:
            return bytes([0xa0 | n]) + b
        if n < 256:
            return b"\xd9" + bytes([n]) + b
        if n < 65536:
            return b"\xda" + struct.pack(">H", n) + b
        return b"\xdb" + struct.pack(">I", n) + b
    if isinstance(v, list):
        n = len(v)
        h = bytes([0x90 | n]) if n < 16 else (b"\xdc" + struct.pack(">H", n) if n < 65536 else b"\xdd" + struct.pack(">I", n))
        return h + b"".join(mp(x) for x in v)
    if isinstance(v, dict):
        n = len(v)
        h = bytes([0x80 | n]) if n < 16 else (b"\xde" + struct.pack(">H", n) if n < 65536 else b"\xdf" + struct.pack(">I", n))
        items = sorted(v.items(), key=lambda kv: kv[0].encode())
        return h + b"".join(mp(k) + mp(x) for k, x in items)
    raise TypeError(v)


NETWORK = hashlib.blake2b(b"agora/mc2cm/1", digest_size=32).digest()
OTHER_NET = hashlib.blake2b(b"agora/other/1", digest_size=32).digest()


def keypair(seed):
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, pk


def entry(seed, seq, prev, ts, rtype, rid, body, network=NETWORK, version=1):
    sk, pk = keypair(seed)
    fields = [version, network, pk, seq, prev, ts, rtype, rid, body]
    signed = mp(fields)
    sig = sk.sign(signed)
    raw = mp(fields + [sig])
    return pk, sig, raw


def valid_case(name, seed, seq, prev, ts, rtype, rid, body):
    pk, sig, raw = entry(seed, seq, prev, ts, rtype, rid, body)
    return {
        "name": name,
        "seed": seed.hex(),
        "author": pk.hex(),
        "seq": seq,
        "prev": prev.hex() if prev else None,
        "timestamp": ts,
        "type": rtype,
        "id": rid,
        "body": body,
        "body_msgpack": mp(body).hex() if body is not None else None,
        "signature": sig.hex(),
        "encoded": raw.hex(),
        "hash": hashlib.blake2b(raw, digest_size=32).hexdigest(),
    }, raw


def resign(seed, signed_fields_bytes_9):
    sk, _ = keypair(seed)
    return sk.sign(signed_fields_bytes_9)


def main():
    seed_a = bytes(range(32))
    seed_b = bytes([0x42] * 32)
    valid = []
    practice = {
        "title": {"fr": "Hébergement d'urgence", "en": "Emergency housing", "ar": "الإيواء الطارئ"},
        "summary": "Un guichet unique pour l'hébergement",
        "topics": ["housing", "inclusion"],
        "stakeholders": ["city-administration", "civil-society"],
        "year": 2024,
    }
    c1, raw1 = valid_case("first practice", seed_a, 1, None, 1700000000000, "practice", "p-001", practice)
    valid.append(c1)
    h1 = hashlib.blake2b(raw1, digest_size=32).digest()
    c2, raw2 = valid_case("second entry chains to the first", seed_a, 2, h1, 1700000001000, "practice", "p-001",
                          dict(practice, year=2025, ratio=0.5, negative=-200))
    valid.append(c2)
    h2 = hashlib.blake2b(raw2, digest_size=32).digest()
    valid.append(valid_case("retraction has a nil body", seed_a, 3, h2, 1700000002000, "practice", "p-001", None)[0])
    valid.append(valid_case("empty body map, unicode id", seed_b, 1, None, 0, "comment", "réponse-١", {})[0])
    long_map = {("k%02d" % i): i * 1000 for i in range(20)}
    long_map["b"] = "x" * 40
    long_map["ba"] = True
    long_map["ab"] = [1, [2, [3]]]
    long_map["big"] = 1 << 40
    long_map["neg"] = -(1 << 40)
    valid.append(valid_case("map16, str8, prefix key order, nested arrays", seed_b, 1, None, 12345678901234, "toolbox", "t" * 128, long_map)[0])

    invalid = []

    def bad(name, raw, reason):
        invalid.append({"name": name, "encoded": raw.hex(), "reason": reason})

    good = raw1
    bad("truncated by one byte", good[:-1], "truncated")
    bad("trailing byte", good + b"\x00", "trailing")
    bad("empty input", b"", "truncated")
    bad("not an array", b"\x80", "shape")
    bad("array of 9", bytes([0x99]) + good[1:good.rfind(b"\xc4\x40")], "shape")
    bad("signature flipped", good[:-1] + bytes([good[-1] ^ 1]), "signature")
    # Re-sign bodies that are themselves broken, so only the named fault is present.
    def signed(fields, seed=seed_a):
        s = mp(fields)
        sig = resign(seed, s)
        return bytes([0x9a]) + s[1:] + mp(sig)
    _, pk_a = keypair(seed_a)
    base = [1, NETWORK, pk_a, 1, None, 1700000000000, "practice", "p-001"]
    bad("wrong network", signed([1, OTHER_NET, pk_a, 1, None, 1, "practice", "x", {}]), "network")
    bad("version 2", signed([2] + base[1:] + [{}]), "version")
    bad("seq 0", signed(base[:3] + [0] + base[4:] + [{}]), "seq")
    bad("seq 2 without prev", signed(base[:3] + [2] + base[4:] + [{}]), "seq")
    bad("seq 1 with prev", signed(base[:3] + [1, b"\x00" * 32] + base[5:] + [{}]), "seq")
    bad("prev of 31 bytes", signed(base[:3] + [2, b"\x00" * 31] + base[5:] + [{}]), "shape")
    bad("uppercase record type", signed(base[:6] + ["Practice", "x", {}]), "record type")
    bad("record type of 33 chars", signed(base[:6] + ["a" * 33, "x", {}]), "record type")
    bad("empty record id", signed(base[:7] + ["", {}]), "record id")
    bad("record id of 129 bytes", signed(base[:7] + ["x" * 129, {}]), "record id")
    bad("control character in id", signed(base[:7] + ["a\x01b", {}]), "record id")
    bad("C1 control character in id", signed(base[:7] + ["a\u0085b", {}]), "record id")
    bad("body is an array", signed(base + [[1]]), "body")
    # Hand-built non-canonical encodings inside a validly signed entry.
    def with_body(body_bytes):
        s = mp(base)[:-0] if False else mp(base)
        s = bytes([0x99]) + s[1:] + body_bytes
        sig = resign(seed_a, s)
        return bytes([0x9a]) + s[1:] + mp(sig)
    bad("uint8 holding 5", with_body(b"\x81\xa1a\xcc\x05"), "non-canonical")
    bad("uint16 holding 200", with_body(b"\x81\xa1a\xcd\x00\xc8"), "non-canonical")
    bad("int8 holding -5", with_body(b"\x81\xa1a\xd0\xfb"), "non-canonical")
    bad("int8 holding 5", with_body(b"\x81\xa1a\xd0\x05"), "non-canonical")
    bad("str8 holding 3 bytes", with_body(b"\x81\xa1a\xd9\x03abc"), "non-canonical")
    bad("map16 holding 1 pair", with_body(b"\xde\x00\x01\xa1a\xc0"), "non-canonical")
    bad("array16 holding 1", with_body(b"\x81\xa1a\xdc\x00\x01\xc0"), "non-canonical")
    bad("bin16 holding 1 byte", with_body(b"\x81\xa1a\xc5\x00\x01\x00"), "non-canonical")
    bad("float 32", with_body(b"\x81\xa1a\xca\x3f\x80\x00\x00"), "ext")
    bad("float 64 NaN", with_body(b"\x81\xa1a\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00"), "float")
    bad("float 64 infinity", with_body(b"\x81\xa1a\xcb\xff\xf0\x00\x00\x00\x00\x00\x00"), "float")
    bad("ext type", with_body(b"\x81\xa1a\xd4\x01\x00"), "ext")
    bad("reserved byte c1", with_body(b"\x81\xa1a\xc1"), "shape")
    bad("unsorted keys", with_body(b"\x82\xa1b\xc0\xa1a\xc0"), "key order")
    bad("duplicate keys", with_body(b"\x82\xa1a\xc0\xa1a\xc0"), "key order")
    bad("extension before prefix", with_body(b"\x82\xa2ba\xc0\xa1b\xc0"), "key order")
    bad("integer key", with_body(b"\x81\x01\xc0"), "key order")
    bad("invalid UTF-8 string", with_body(b"\x81\xa1a\xa2\xc3\x28"), "utf-8")
    bad("overlong UTF-8", with_body(b"\x81\xa1a\xa2\xc0\xaf"), "utf-8")
    bad("UTF-8 surrogate", with_body(b"\x81\xa1a\xa3\xed\xa0\x80"), "utf-8")
    deep = b"\x91" * 15 + b"\xc0"
    bad("nesting 17 levels", with_body(b"\x81\xa1a" + deep), "depth")
    ok_deep = b"\x91" * 14 + b"\xc0"
    c, _ = valid_case("nesting exactly 16 levels", seed_a, 1, None, 1, "practice", "deep", {"a": [[[[[[[[[[[[[[None]]]]]]]]]]]]]]})
    assert mp({"a": [[[[[[[[[[[[[[None]]]]]]]]]]]]]]}) == b"\x81\xa1a" + ok_deep
    valid.append(c)
    bad("array claims 4 billion elements", with_body(b"\x81\xa1a\xdd\xff\xff\xff\xff"), "truncated")
    bad("over 60000 bytes", signed(base + [{"a": "x" * 60000}]), "too large")
    c, _ = valid_case("exactly 60000 bytes", seed_a, 1, None, 1, "practice", "big", {"a": "x" * (60000 - 158)})
    assert len(bytes.fromhex(c["encoded"])) == 60000, len(bytes.fromhex(c["encoded"]))
    valid.append(c)
    print(json.dumps({
        "description": "agora entry vectors (DESIGN.md 'Entries'); made by gen_entries.py",
        "network": NETWORK.hex(),
        "valid": valid,
        "invalid": invalid,
    }, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
