#!/usr/bin/env python3
"""Make tests/vectors/headers.json: entry format 2 vectors (DESIGN.md "Entries").

Independent of proto/: canonical msgpack by gen_entries.mp (written by hand from
the msgpack specification), signatures by the Python 'cryptography' package,
hashes by hashlib. Valid headers with their bodies, a retraction, headers whose
body is withheld; invalid headers and bodies each with the reason a decoder
gives; runs of headers accepted or refused by one signature and its chain.
Run: python3 tests/vectors/gen_headers.py > tests/vectors/headers.json
"""
import hashlib
import json

from gen_entries import NETWORK, OTHER_NET, keypair, mp


def b2(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def header(seed, seq, prev, ts, rtype, rid, body_bytes, network=NETWORK, version=2,
           body_hash=None, body_len=None, bad_sig=False):
    """The encoded 11-element header; the body's hash and length unless overridden."""
    sk, pk = keypair(seed)
    if body_hash is None and body_bytes is not None:
        body_hash = b2(body_bytes)
    if body_len is None:
        body_len = len(body_bytes) if body_bytes is not None else 0
    fields = [version, network, pk, seq, prev, ts, rtype, rid, body_hash, body_len]
    sig = sk.sign(mp(fields))
    if bad_sig:
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    return mp(fields + [sig]), sig


def valid_case(name, seed, seq, prev, ts, rtype, rid, body, withheld=False):
    body_bytes = mp(body) if body is not None else None
    raw, sig = header(seed, seq, prev, ts, rtype, rid, body_bytes)
    _, pk = keypair(seed)
    case = {
        "name": name,
        "seed": seed.hex(),
        "author": pk.hex(),
        "seq": seq,
        "prev": prev.hex() if prev else None,
        "timestamp": ts,
        "type": rtype,
        "id": rid,
        "body": body,
        "body_msgpack": body_bytes.hex() if body_bytes is not None else None,
        "body_hash": b2(body_bytes).hex() if body_bytes is not None else None,
        "body_len": len(body_bytes) if body_bytes is not None else 0,
        "withheld": withheld,
        "signature": sig.hex(),
        "header": raw.hex(),
        "hash": b2(raw).hex(),
    }
    return case, raw


def cert(rec_seed, old, new, last_seq, last_hash, ts, network=NETWORK, version=1, bad_sig=False):
    """A succession certificate signed by the recovery key made from rec_seed."""
    sk, _ = keypair(rec_seed)
    fields = [version, network, old, new, last_seq, last_hash, ts]
    sig = sk.sign(mp(fields))
    if bad_sig:
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    return mp(fields + [sig])


def make_certs(seed_old, last_header):
    """Valid and invalid certificates, and which of two wins, for the old key of seed_old."""
    rec_seed = bytes([0x07] * 32)
    _, recovery = keypair(rec_seed)
    _, old = keypair(seed_old)
    _, new_a = keypair(bytes([0x0a] * 32))
    _, new_b = keypair(bytes([0x0b] * 32))
    last = b2(last_header)
    out = {"recovery_seed": rec_seed.hex(), "recovery": recovery.hex(), "valid": [], "invalid": []}

    def ok(name, raw, last_seq, new):
        out["valid"].append({"name": name, "cert": raw.hex(), "old": old.hex(), "new": new.hex(),
                             "last_seq": last_seq, "last_hash": last.hex() if last_seq else None,
                             "timestamp": 1700000005000})

    def bad(name, raw, reason):
        out["invalid"].append({"name": name, "cert": raw.hex(), "reason": reason})

    ok("names seq 2 as the last valid entry", cert(rec_seed, old, new_a, 2, last, 1700000005000), 2, new_a)
    ok("voids the whole old feed (seq 0)", cert(rec_seed, old, new_b, 0, None, 1700000005000), 0, new_b)
    ok("same seq, the other new key", cert(rec_seed, old, new_b, 2, last, 1700000005000), 2, new_b)
    bad("signed by the old key, not the recovery key", cert(seed_old, old, new_a, 2, last, 1), "signature")
    bad("signature flipped", cert(rec_seed, old, new_a, 2, last, 1, bad_sig=True), "signature")
    bad("wrong network", cert(rec_seed, old, new_a, 2, last, 1, network=OTHER_NET), "network")
    bad("format 2", cert(rec_seed, old, new_a, 2, last, 1, version=2), "version")
    bad("seq 2 with a nil hash", cert(rec_seed, old, new_a, 2, None, 1), "seq")
    bad("seq 0 with a hash", cert(rec_seed, old, new_a, 0, last, 1), "seq")
    bad("the new key is the old one", cert(rec_seed, old, old, 2, last, 1), "key")
    bad("hash of 31 bytes", cert(rec_seed, old, new_a, 2, last[:31], 1), "shape")
    good = cert(rec_seed, old, new_a, 2, last, 1)
    bad("truncated", good[:-1], "truncated")
    bad("trailing byte", good + b"\xc0", "trailing")
    # Of two for one old key: the lower seq wins, then the smaller new key.
    out["wins"] = [[1, 0], [0, 2] if new_a < new_b else [2, 0]]
    return out


def main():
    seed_a = bytes(range(32))
    seed_b = bytes([0x42] * 32)
    _, pk_a = keypair(seed_a)
    practice = {
        "title": {"fr": "Hébergement d'urgence", "en": "Emergency housing", "ar": "الإيواء الطارئ"},
        "summary": "Un guichet unique pour l'hébergement",
        "topics": ["housing", "inclusion"],
        "stakeholders": ["city-administration", "civil-society"],
        "year": 2024,
    }
    valid, runs, bad_headers, bad_bodies = [], [], [], []

    c1, h1 = valid_case("first practice", seed_a, 1, None, 1700000000000, "practice", "p-001", practice)
    c2, h2 = valid_case("second version chains to the first", seed_a, 2, b2(h1), 1700000001000, "practice",
                        "p-001", dict(practice, year=2025, ratio=0.5, negative=-200))
    c3, h3 = valid_case("retraction: nil body hash, length 0", seed_a, 3, b2(h2), 1700000002000, "practice",
                        "p-001", None)
    c4, h4 = valid_case("body withheld: the header alone is valid", seed_a, 4, b2(h3), 1700000003000,
                        "practice", "p-002", {"title": "Cours de langue"}, withheld=True)
    valid += [c1, c2, c3, c4]
    valid.append(valid_case("empty body map, unicode id", seed_b, 1, None, 0, "comment", "réponse-١", {})[0])
    valid.append(valid_case("purge record", seed_b, 1, None, 5, "purge", "purge-1", {"seqs": [2, 3]})[0])
    big = {"a": "x" * (60000 - 6)}
    assert len(mp(big)) == 60000
    valid.append(valid_case("body of exactly 60000 bytes", seed_b, 1, None, 1, "practice", "big", big)[0])
    deep = {"a": None}
    for _ in range(15):
        deep["a"] = [deep["a"]]
    assert mp(deep) == b"\x81\xa1a" + b"\x91" * 15 + b"\xc0"  # the map is level 1
    valid.append(valid_case("body nested exactly 16 levels", seed_b, 1, None, 1, "practice", "deep", deep)[0])
    longest, _ = valid_case("longest header: type of 32, id of 128 bytes", seed_b, 2, b"\x11" * 32,
                            (1 << 63) - 1, "a" * 32, "\u00e9" * 64, {"a": 1})
    assert len(bytes.fromhex(longest["header"])) <= 512
    valid.append(longest)

    def bad_header(name, raw, reason):
        bad_headers.append({"name": name, "header": raw.hex(), "reason": reason})

    base = dict(seed=seed_a, seq=1, prev=None, ts=1700000000000, rtype="practice", rid="p-001",
                body_bytes=mp(practice))

    def hdr(**kw):
        args = dict(base)
        args.update(kw)
        return header(args.pop("seed"), args.pop("seq"), args.pop("prev"), args.pop("ts"),
                      args.pop("rtype"), args.pop("rid"), args.pop("body_bytes"), **args)[0]

    good = h1
    bad_header("truncated by one byte", good[:-1], "truncated")
    bad_header("trailing byte", good + b"\x00", "trailing")
    bad_header("empty input", b"", "truncated")
    bad_header("array of 10 (no signature)", bytes([0x9a]) + good[1:good.rfind(b"\xc4\x40")], "shape")
    bad_header("signature flipped", good[:-1] + bytes([good[-1] ^ 1]), "signature")
    bad_header("wrong network", hdr(network=OTHER_NET), "network")
    bad_header("format 1", hdr(version=1), "version")
    bad_header("format 3", hdr(version=3), "version")
    bad_header("seq 0", hdr(seq=0), "seq")
    bad_header("seq 2 without prev", hdr(seq=2), "seq")
    bad_header("seq 1 with prev", hdr(prev=b"\x00" * 32), "seq")
    bad_header("prev of 31 bytes", hdr(seq=2, prev=b"\x00" * 31), "shape")
    bad_header("uppercase record type", hdr(rtype="Practice"), "record type")
    bad_header("record id of 129 bytes", hdr(rid="x" * 129), "record id")
    bad_header("control character in id", hdr(rid="a\x01b"), "record id")
    bad_header("body hash of 31 bytes", hdr(body_hash=b"\x00" * 31), "shape")
    bad_header("body hash with length 0", hdr(body_len=0), "body")
    bad_header("nil body hash with length 5", hdr(body_bytes=None, body_len=5), "body")
    bad_header("body length over 60000", hdr(body_len=60001), "too large")
    bad_header("body length negative", hdr(body_len=-1), "shape")
    # Over 512 bytes: only a hand-made non-canonical id can get there within the other
    # limits, so the length check is what must refuse it first.
    over = hdr(rid="x" * 128)
    bad_header("header over 512 bytes", over + b"\x00" * (513 - len(over)), "too large")
    # A non-canonical integer inside a validly signed header.
    fields = [2, NETWORK, pk_a, 1, None, 1700000000000, "practice", "p-001", b2(mp(practice))]
    s = mp(fields)[1:] + b"\xcd\x00\x05"  # length 5 as uint16
    sig = keypair(seed_a)[0].sign(bytes([0x9a]) + s)
    bad_header("uint16 holding a length of 5", bytes([0x9b]) + s + mp(sig), "non-canonical")

    def bad_body(name, body_bytes, reason, **kw):
        raw = hdr(body_bytes=body_bytes, **kw)
        bad_bodies.append({"name": name, "header": raw.hex(), "body": body_bytes.hex(), "reason": reason})

    body = mp(practice)
    bad_body("body hash mismatch (one byte changed)", body[:-1] + bytes([body[-1] ^ 1]), "body hash",
             body_hash=b2(body))
    bad_body("body length mismatch", body, "body hash", body_len=len(body) + 1)
    bad_body("body is an array", mp([1]), "body")
    bad_body("non-canonical body (uint8 holding 5)", b"\x81\xa1a\xcc\x05", "non-canonical")
    bad_body("NaN float in a body", b"\x81\xa1a\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", "float")
    bad_body("infinite float in a body", b"\x81\xa1a\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00", "float")
    bad_body("unsorted keys in a body", b"\x82\xa1b\xc0\xa1a\xc0", "key order")
    bad_body("body nested 17 levels", b"\x81\xa1a" + b"\x91" * 16 + b"\xc0", "depth")
    bad_body("trailing byte after the body map", body + b"\xc0", "trailing")

    def chain(seed, n, start=1, prev=None, bad_at=(), rid="r"):
        out = []
        for i in range(n):
            seq = start + i
            raw = header(seed, seq, prev, 1700000000000 + seq, "practice", rid,
                         mp({"n": seq}), bad_sig=(i in bad_at))[0]
            out.append(raw)
            prev = b2(raw)
        return out

    def run(name, hdrs, ok, reason=None, at=None):
        runs.append({"name": name, "headers": [h.hex() for h in hdrs], "ok": ok, "reason": reason, "at": at})

    run("five headers, every signature good", chain(seed_a, 5), True)
    run("a bad signature inside, the last one good: accepted", chain(seed_a, 5, bad_at=(1, 2)), True)
    run("the last signature forged: refused whole", chain(seed_a, 5, bad_at=(4,)), False, "signature", 4)
    run("one header whose signature is forged", chain(seed_a, 1, bad_at=(0,)), False, "signature", 0)
    a = chain(seed_a, 4)
    b = chain(seed_b, 4)
    run("spliced from two authors", a[:2] + b[2:], False, "shape", 2)
    c = chain(seed_a, 4, rid="other")  # the same author, another chain
    run("spliced from two chains of one author", a[:2] + c[2:], False, "prev", 2)
    run("a header missing in the middle", a[:1] + a[2:], False, "seq", 1)
    run("starting mid-feed, linked inside", chain(seed_a, 3, start=7, prev=b"\x22" * 32), True)

    certs = make_certs(seed_a, h2)
    print(json.dumps({
        "description": "agora entry format 2 vectors (DESIGN.md 'Entries'); made by gen_headers.py",
        "network": NETWORK.hex(),
        "valid": valid,
        "invalid_headers": bad_headers,
        "invalid_bodies": bad_bodies,
        "runs": runs,
        "certs": certs,
    }, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
