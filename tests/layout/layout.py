#!/usr/bin/env python3
"""layout.py: the folders' rules (DESIGN.md, Layout; STYLE.md), checked on the source.

  layout.py SRC cli      cli/ includes no header of daemon/, and CMakeLists.txt
                         does not link agora_cli with agora_daemon.
  layout.py SRC daemon   daemon/ has no include circle: a module is a .c and
                         its .h (X_internal.h counts as module X), and X uses Y
                         when X.c or X.h includes Y.h.

Exits 0 when the rule holds, 1 with every breach named when it does not.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def includes(path):
    with open(path, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def sources(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith((".c", ".h")))


def module(name):
    stem = name.rsplit(".", 1)[0]
    return stem[: -len("_internal")] if stem.endswith("_internal") else stem


def check_cli(src):
    daemon = set(sources(os.path.join(src, "daemon")))
    bad = []
    for name in sources(os.path.join(src, "cli")):
        for inc in includes(os.path.join(src, "cli", name)):
            if inc in daemon:
                bad.append(f"cli/{name} includes daemon/{inc}")
    with open(os.path.join(src, "CMakeLists.txt"), encoding="utf-8") as f:
        cmake = f.read()
    for m in re.finditer(r"target_link_libraries\(\s*agora_cli\b([^)]*)\)", cmake):
        if re.search(r"\bagora_daemon\b", m.group(1)):
            bad.append("CMakeLists.txt links agora_cli with agora_daemon")
    return bad


def daemon_graph(src):
    folder = os.path.join(src, "daemon")
    names = sources(folder)
    headers = {n for n in names if n.endswith(".h")}
    graph = {}
    for name in names:
        uses = graph.setdefault(module(name), set())
        for inc in includes(os.path.join(folder, name)):
            if inc in headers and module(inc) != module(name):
                uses.add(module(inc))
    return graph


def circles(graph):
    """Every strongly connected set of more than one module (Tarjan), each as a path."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def check_daemon(src):
    graph = daemon_graph(src)
    bad = []
    for group in circles(graph):
        edges = [f"{a} -> {b}" for a in group for b in sorted(graph[a]) if b in group]
        bad.append("daemon/ include circle among " + ", ".join(group) + ": " + "; ".join(edges))
    return bad


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("cli", "daemon"):
        print("usage: layout.py SRC cli|daemon", file=sys.stderr)
        return 2
    bad = (check_cli if sys.argv[2] == "cli" else check_daemon)(sys.argv[1])
    for line in bad:
        print(line)
    if not bad:
        print(f"layout {sys.argv[2]}: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
