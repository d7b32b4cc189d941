"""Structure numbers of a package, read from its source with ast (nothing is imported).

Prints the largest functions and modules (by lines), the count of imports of the
package's own modules made inside functions (lazy imports that often only dodge a
cycle), and the import cycles between modules (every import statement counts,
except those under ``if TYPE_CHECKING:``; cycles made only by a package's
``__init__`` re-exporting its children are listed apart).

    python bench/structure_stats.py                 # judgecal/, top 10
    python bench/structure_stats.py judgecal --top 20
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under the package directory ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(x) for b in node.body for x in ast.walk(b)}
    return skip


def _targets(node: ast.AST, name: str, is_pkg: bool, mods: dict) -> list[str]:
    """Modules of the package an import statement loads (resolved to the nearest known module)."""
    if isinstance(node, ast.Import):
        found = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parts = name.split(".") if is_pkg else name.split(".")[:-1]
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join(parts + ([base] if base else []))
        found = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
    else:
        return []
    out = []
    for t in found:
        while t and t not in mods:
            t = t.rpartition(".")[0]
        if t and t != name:
            out.append(t)
    return out


def analyse(root: Path):
    """(functions [(lines, qualified name)], modules [(lines, name)], in-function import count,
    import graph {module: set of modules})."""
    mods = module_files(root)
    funcs, sizes, graph, infunc = [], [], defaultdict(set), 0
    for name, path in mods.items():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        sizes.append((len(text.splitlines()), name))
        skip = _type_checking_nodes(tree)
        inside: set[int] = set()

        def visit(node, prefix, inside=inside):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    qual = f"{prefix}.{child.name}"
                    funcs.append((child.end_lineno - child.lineno + 1, qual))
                    inside.update(id(x) for x in ast.walk(child) if x is not child)
                    visit(child, qual)
                elif isinstance(child, ast.ClassDef):
                    visit(child, f"{prefix}.{child.name}")
                else:
                    visit(child, prefix)

        visit(tree, name)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            for target in _targets(node, name, path.name == "__init__.py", mods):
                graph[name].add(target)
                infunc += id(node) in inside
    return funcs, sizes, infunc, graph


def cycles(graph: dict) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in list(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def _through_init_only(comp: list[str]) -> bool:
    """A cycle made of a package and its own children only (its __init__ re-exports)."""
    return all(any(a != b and (a.startswith(b + ".") or b.startswith(a + ".")) for b in comp) for a in comp)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", nargs="?", default=str(Path(__file__).resolve().parents[1] / "judgecal"))
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    funcs, sizes, infunc, graph = analyse(Path(args.package).resolve())
    print(f"{args.top} largest functions (lines):")
    for n, name in sorted(funcs, reverse=True)[: args.top]:
        print(f"  {n:5d}  {name}")
    print(f"{args.top} largest modules (lines):")
    for n, name in sorted(sizes, reverse=True)[: args.top]:
        print(f"  {n:5d}  {name}")
    print(f"modules: {len(sizes)}, lines: {sum(n for n, _ in sizes)}, modules over 400 lines: "
          f"{sum(n > 400 for n, _ in sizes)}")
    print(f"in-function imports of the package's own modules: {infunc}")
    comps = cycles(graph)
    real = [c for c in comps if not _through_init_only(c)]
    for c in comps:
        print(("cycle: " if c in real else "init re-export cycle: ") + " <-> ".join(c))
    print(f"import cycles between modules: {len(real)} (plus {len(comps) - len(real)} through __init__ re-exports)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
