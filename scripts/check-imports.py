#!/usr/bin/env python3
"""No two source files import each other, directly or through a loop.

Reads every crate's `src/` (tests and `#[cfg(test)]` modules left out), resolves the paths each
file names (`use crate::…`, `use super::…`, `use self::…`, `use <workspace crate>::…`, and the same
paths written inline) to the file of the module they reach, and reports every loop among files
as a strongly connected component. Exits 1 when there is one.

Usage: scripts/check-imports.py [--graph]   (--graph prints every edge, for a closer look)
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATH = re.compile(r"\b(crate|super|self|[a-z_][a-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE = re.compile(r"\buse\s+([^;]+);", re.S)


def workspace_crates():
    members = re.search(r"members\s*=\s*\[([^\]]*)\]", (ROOT / "Cargo.toml").read_text()).group(1)
    crates = {}
    for member in re.findall(r'"([^"]+)"', members):
        manifest = (ROOT / member / "Cargo.toml").read_text()
        name = re.search(r'^name\s*=\s*"([^"]+)"', manifest, re.M).group(1)
        crates[name.replace("-", "_")] = ROOT / member / "src"
    return crates


def strip(text):
    """Drops comments, string literals and #[cfg(test)] modules (they are tests)."""
    # One pass, left to right, so a `//` inside a string or a quote inside a comment is read as
    # what it is: char literals, strings (raw ones too), then comments.
    token = re.compile(
        r"""'(?:\\.|[^'\\\n])'"""  # a char literal such as '"' or '\\''
        r'|\br(#*)"(?:.|\n)*?"\1'  # a raw string
        r'|"(?:\\.|[^"\\])*"'  # a string
        r"|//[^\n]*|/\*(?:.|\n)*?\*/",  # comments
    )
    text = token.sub(lambda m: "''" if m.group(0).startswith("'") else '""' if not m.group(0).startswith("/") else "", text)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def module_of(src, path):
    """The module path (list of names) a file is, e.g. src/config/redact.rs -> ['config', 'redact']."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts = parts[:-1]
    return parts


def file_of(src, module):
    """The file of `module`, or of its closest ancestor that is a file."""
    for n in range(len(module), -1, -1):
        prefix = module[:n]
        if not prefix:
            return src / "lib.rs" if (src / "lib.rs").exists() else None
        for candidate in (src.joinpath(*prefix).with_suffix(".rs"), src.joinpath(*prefix, "mod.rs")):
            if candidate.exists():
                return candidate
    return None


def child_module(src, here, name):
    """Whether `name` is a child module of the module `here` (declared beside or below its file)."""
    base = src.joinpath(*here, name)
    return base.with_suffix(".rs").exists() or (base / "mod.rs").exists()


def expand(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+", "", tree)
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                head, inner = tree[:start], tree[start + 1:i]
                parts, level, last = [], 0, 0
                for k, c in enumerate(inner):
                    level += {"{": 1, "}": -1}.get(c, 0)
                    if c == "," and level == 0:
                        parts.append(inner[last:k])
                        last = k + 1
                parts.append(inner[last:])
                return [p for part in parts if part for p in expand(head + part)]
    return [re.sub(r"\bas\b.*$", "", tree)]


def edges(crates):
    graph = {}
    for crate, src in crates.items():
        for path in sorted(src.rglob("*.rs")):
            here = module_of(src, path)
            text = strip(path.read_text())
            names = [n for u in USE.findall(text) for n in expand(u)]
            names += [m.group(0) for m in PATH.finditer(USE.sub("", text))]
            targets = set()
            for name in names:
                segments = name.split("::")
                head = segments[0]
                if head == "crate":
                    target_src, module = src, segments[1:]
                elif head in ("super", "self"):
                    module = list(here)
                    while segments and segments[0] in ("super", "self"):
                        if segments.pop(0) == "super":
                            module = module[:-1]
                    target_src, module = src, module + segments
                elif head in crates and head != crate:
                    target_src, module = crates[head], segments[1:]
                elif child_module(src, here, head):
                    # A path through one of this module's own children (`health::router()`).
                    target_src, module = src, here + segments
                else:
                    continue
                target = file_of(target_src, module)
                if target and target != path:
                    targets.add(target)
            graph[path] = targets
    return graph


def loops(graph):
    """Strongly connected components of more than one file (Tarjan, iterative)."""
    index, low, on, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def main():
    graph = edges(workspace_crates())
    if "--graph" in sys.argv:
        for source, targets in sorted(graph.items()):
            for target in sorted(targets):
                print(f"{source.relative_to(ROOT)} -> {target.relative_to(ROOT)}")
    found = loops(graph)
    if not found:
        print(f"check-imports: no import loops among {len(graph)} source files")
        return 0
    for component in found:
        print(f"check-imports: {len(component)} files import each other in a loop:")
        for member in component:
            inside = sorted(t.relative_to(ROOT) for t in graph[member] if t in component)
            print(f"  {member.relative_to(ROOT)} -> {', '.join(map(str, inside))}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
