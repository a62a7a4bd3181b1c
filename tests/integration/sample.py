# sample.py SAMPLE KEYS COMMAND ...: what the sample files of contrib/sample say,
# and checks of agora's --json answers (on stdin) against it. KEYS maps slugs to
# node keys ("slug key" lines). Used by test_sample.sh and test_report.sh through
# sample.sh; importable for words() and matching().
import glob, json, os, sys, unicodedata as ud

KEEP = {"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No", "Mc"}
DROP = {"Mn", "Me", "Cf"}  # accents, harakat, zero-width characters
ARABIC = {"\u0649": "\u064a", "\u0629": "\u0647"}  # alef maqsura, teh marbuta
ARABIC.update({chr(0x660 + i): str(i) for i in range(10)})
ARABIC.update({chr(0x6F0 + i): str(i) for i in range(10)})

def words(text):
    """The folded words of text, as the index cuts them (two letters or more)."""
    out, w = set(), []
    def flush():
        if len(w) >= 2:
            out.add("".join(w))
        w.clear()
    for c in text:
        for d in ud.normalize("NFKD", ud.normalize("NFKD", c).casefold()):
            cat = ud.category(d)
            if d == "\u0640" or cat in DROP:
                continue
            if cat in KEEP:
                w.append(ARABIC.get(d, d))
            else:
                flush()
    flush()
    return out

def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)

def topics(v):
    """The topics a body names in "topic"/"topics" keys, at any depth."""
    found = set()
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "topic" and isinstance(x, str):
                found.add(x)
            elif k == "topics" and isinstance(x, list):
                found.update(x)
            else:
                found |= topics(x)
    elif isinstance(v, list):
        for x in v:
            found |= topics(x)
    return found

def records(slugs):
    for slug in slugs:
        for f in sorted(glob.glob(os.path.join(sample, slug, "*.json"))):
            rtype, rid = os.path.basename(f)[:-5].split(".", 1)
            yield slug, rtype, rid, json.load(open(f, encoding="utf-8"))

def matching(slugs, query):
    q = words(query)
    return {(s, t, i) for s, t, i, b in records(slugs) if q <= set().union(*map(words, strings(b)))}

# The topics a query word names in some language (daemon/index_topics.c): they find their records too.
NAMES = {"hebergement": "housing", "سكن": "housing", "sante": "health", "الصحه": "health"}

def core(w):
    """An Arabic word without its article or a clitic letter before it."""
    for p in ("وال", "بال", "كال", "فال", "لل", "ال", "و", "ب", "ل"):
        if w.startswith(p) and len(w) - len(p) >= 3:
            return w[len(p):]
    return w

def another_form(b, query):
    """Whether b holds another form of each query word: its stem's letters, or a clitic before it."""
    have = set().union(*map(words, strings(b)))
    return all(any(w.startswith(q[: max(4, len(q) - 3)]) or
                   (not q.isascii() and core(w).startswith(core(q)[: max(3, len(core(q)) - 2)]))
                   for w in have) for q in words(query))

def named(b, query):
    return any(NAMES.get(q) in topics(b) for q in words(query))

def answer_list():
    """agora's --json answer on stdin: (slug, type, id) per record, in its order."""
    keys = dict(l.split()[::-1] for l in open(sys.argv[2]) if l.strip())
    d = json.load(sys.stdin)
    assert not d["more"], "the answer was cut short"
    return [(keys.get(r["author"], r["author"]), r["type"], r["id"]) for r in d["records"]]

def answer():
    return set(answer_list())

def check_found(slugs, query, want, got):
    """want found; any other found record explained, by another form first, then by topic."""
    bodies = {(s, t, i): b for s, t, i, b in records(slugs)}
    missing = want - set(got)
    assert not missing, f"{query!r} missed {show(missing)}\n  found {show(set(got))}"
    by_topic = [g for g in got if g not in want and not another_form(bodies[g], query)]
    for g in by_topic:
        assert named(bodies[g], query), f"{query!r} found {show({g})}, which neither holds it nor is tagged with a topic it names"
    if by_topic:
        last_text = max(got.index(g) for g in got if g not in by_topic)
        assert last_text < got.index(by_topic[0]), f"{query!r}: a record found by topic ranks above one that holds it: {show(set(got))}"

def show(s):
    return ", ".join("/".join(x) for x in sorted(s)) or "nothing"

def main(cmd, args):
    if cmd == "expect":  # SLUGS QUERY MUST-FIND...: agora found what the files hold, and what issue 20 adds
        slugs, query, must = args[0].split(","), args[1], args[2:]
        want, got = matching(slugs, query), answer_list()
        for m in must:
            assert tuple(m.split("/")) in want, f"the sample lacks {m} for {query!r}: {show(want)}"
        check_found(slugs, query, want, got)
        print(f"ok: {query!r} finds {show(want)}, and {len(set(got) - want)} more by form or topic")
    elif cmd == "lacks":  # SLUGS QUERY RECORD: the sample does not match RECORD on QUERY
        assert tuple(args[2].split("/")) not in matching(args[0].split(","), args[1]), args
    elif cmd == "narrowed":  # SLUG TOPIC QUERY: only SLUG's records on TOPIC that hold QUERY
        slug, topic, query = args
        hits = {(s, t, i): b for s, t, i, b in records([slug]) if (s, t, i) in matching([slug], query)}
        # A topic counts wherever the record names it: priority areas and profile sections nest theirs.
        want = {k for k, b in hits.items() if topic in topics(b)}
        got = answer_list()
        assert want, f"the sample has no {topic} record of {slug} holding {query!r}"
        check_found([slug], query, want, got)
        bodies = {(s, t, i): b for s, t, i, b in records([slug])}
        assert all(g in bodies and topic in topics(bodies[g]) for g in got), f"found {show(set(got))}"
        print(f"ok: {query!r} on {topic} at {slug} finds {show(got)}")
    elif cmd == "count":  # SLUG TYPE: how many such files
        print(sum(1 for r in records([args[0]]) if r[1] == args[1]))
    elif cmd == "targets":  # every comment answers a record of another sample city
        slugs = [l.split("\t")[0] for l in open(os.path.join(sample, "cities.tsv")) if not l.startswith("#")]
        recs = list(records(slugs))
        have = {(s, t, i) for s, t, i, _ in recs}
        n = 0
        for s, t, i, b in recs:
            if t != "comment":
                continue
            on = b["on"]
            assert on["author"].startswith("@"), f"{s}/{t}.{i}: on.author is not @SLUG"
            target = (on["author"][1:], on["type"], on["id"])
            assert target in have, f"{s}/{t}.{i} answers {target}, which the sample lacks"
            assert target[0] != s, f"{s}/{t}.{i} answers its own city"
            n += 1
        print(f"ok: the {n} comments answer records of other sample cities")
    else:
        sys.exit(f"sample.py: no command {cmd}")


sample = os.environ.get("SAMPLE", "")
if __name__ == "__main__":
    sample = sys.argv[1]
    main(sys.argv[3], sys.argv[4:])
