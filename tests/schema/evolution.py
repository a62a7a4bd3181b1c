#!/usr/bin/env python3
"""Holds the record schemas to the rules of docs/PROTOCOL.md, "Schema evolution".

A release may add optional fields, topics, stakeholders, enum values and record
types, and widen a limit; it may not remove a type, a field or a vocabulary
entry, change a field's kind, make an optional field required, add a required
field to an existing type, or narrow a limit. Older nodes read newer records
tolerantly, and newer nodes must still accept, when publishing, every record an
older release could publish: these rules keep both true.

  evolution.py AGORA BASELINE.json      check agora's schemas against a release's
  evolution.py AGORA --snapshot OUT     write the current schemas as a baseline
  evolution.py AGORA --selftest         show that each rule catches its fault
"""
import copy
import json
import subprocess
import sys


def agora_json(agora, *args):
    out = subprocess.run([agora, "--json", "schema", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def shape(field):
    """What the rules look at in a field: its kind, requiredness, limits, values and children."""
    s = {k: field[k] for k in ("kind", "required", "min", "max") if k in field}
    if "values" in field:
        s["values"] = sorted(field["values"])
    if "fields" in field:
        s["fields"] = {f["name"]: shape(f) for f in field["fields"]}
    if "item" in field:
        s["item"] = shape(field["item"])
    return s


def snapshot(agora):
    return {
        "types": {t["type"]: {f["name"]: shape(f) for f in t["fields"]} for t in agora_json(agora)["types"]},
        "topics": sorted(t["key"] for t in agora_json(agora, "topics")["topics"]),
        "stakeholders": sorted(t["key"] for t in agora_json(agora, "stakeholders")["stakeholders"]),
    }


def check_field(path, old, new, faults):
    if old["kind"] != new["kind"]:
        faults.append(f"{path}: kind changed from {old['kind']} to {new['kind']}")
        return
    if new.get("required") and not old.get("required"):
        faults.append(f"{path}: was optional, now required")
    if "min" in old and new.get("min", old["min"]) > old["min"]:
        faults.append(f"{path}: min raised from {old['min']} to {new['min']}")
    if "max" in old and new.get("max", old["max"]) < old["max"]:
        faults.append(f"{path}: max lowered from {old['max']} to {new['max']}")
    for v in sorted(set(old.get("values", [])) - set(new.get("values", []))):
        faults.append(f"{path}: value {v!r} removed")
    check_fields(path + ".", old.get("fields", {}), new.get("fields", {}), faults, added_required=True)
    if "item" in old:
        check_field(path + "[]", old["item"], new.get("item", {"kind": None}), faults)


def check_fields(prefix, old, new, faults, added_required):
    for name, f in old.items():
        if name not in new:
            faults.append(f"{prefix}{name}: field removed")
        else:
            check_field(prefix + name, f, new[name], faults)
    if added_required:
        for name in sorted(set(new) - set(old)):
            if new[name].get("required"):
                faults.append(f"{prefix}{name}: a new field that is required")


def check(old, new):
    faults = []
    for t, fields in old["types"].items():
        if t not in new["types"]:
            faults.append(f"{t}: record type removed")
        else:
            check_fields(t + ".", fields, new["types"][t], faults, added_required=True)
    for vocab in ("topics", "stakeholders"):
        for k in sorted(set(old[vocab]) - set(new[vocab])):
            faults.append(f"{vocab}: {k!r} removed")
    return faults


def selftest(agora):
    """Each rule, broken on purpose: an older release that had more, or looser, than this one."""
    now = snapshot(agora)
    practice = now["types"]["practice"]
    optional = next(n for n, f in practice.items() if not f.get("required"))
    limited = next(n for n, f in practice.items() if "max" in f)
    cases = [
        ("record type removed", lambda o: o["types"].__setitem__("bygone", {})),
        ("field removed", lambda o: o["types"]["practice"].__setitem__("bygone", {"kind": "text"})),
        ("kind changed", lambda o: o["types"]["practice"]["title"].__setitem__("kind", "integer")),
        ("was optional, now required", lambda o: o["types"]["practice"]["title"].__setitem__("required", False)),
        ("a new field that is required", lambda o: o["types"]["practice"].pop("title")),
        ("max lowered", lambda o: o["types"]["practice"][limited].__setitem__("max", 10**9)),
        ("topics: 'bygone' removed", lambda o: o["topics"].append("bygone")),
        ("stakeholders: 'bygone' removed", lambda o: o["stakeholders"].append("bygone")),
    ]
    bad = 0
    if check(now, now):
        print("selftest: the schemas do not pass against themselves", file=sys.stderr)
        bad += 1
    for want, mutate in cases:
        old = copy.deepcopy(now)
        mutate(old)
        faults = check(old, now)
        if not any(want in f for f in faults):
            print(f"selftest: {want!r} not caught: {faults}", file=sys.stderr)
            bad += 1
    # Adding an optional field is what a release may do.
    old = copy.deepcopy(now)
    old["types"]["practice"].pop(optional)
    if check(old, now):
        print("selftest: an added optional field was refused", file=sys.stderr)
        bad += 1
    print(f"schema evolution selftest: {len(cases) + 2} cases, {bad} wrong")
    return 1 if bad else 0


def main(argv):
    if len(argv) == 3 and argv[2] == "--selftest":
        return selftest(argv[1])
    if len(argv) == 4 and argv[2] == "--snapshot":
        with open(argv[3], "w") as f:
            json.dump(snapshot(argv[1]), f, indent=1, sort_keys=True, ensure_ascii=False)
            f.write("\n")
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[2]) as f:
        old = json.load(f)
    faults = check(old, snapshot(argv[1]))
    for fault in faults:
        print(f"schema evolution: {fault}", file=sys.stderr)
    print(f"schema evolution: {len(old['types'])} types of {argv[2].rsplit('/', 1)[-1]} checked, "
          f"{len(faults)} faults")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
