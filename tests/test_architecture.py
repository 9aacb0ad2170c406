"""The architecture rules of ``src/alsrec``, checked on the source code (AST).

1. The import graph has no cycle: module-level and function-level imports count (an import
   inside a function that dodges a cycle is still a cycle); imports under
   ``if TYPE_CHECKING:`` do not (they never run). ``importlib.import_module`` calls with a
   string (the backend registry's lazy imports) are not imports of the graph.
2. Private names stay home. A private *module* (a path component ``_name``) may be imported
   only from inside the package that holds it (``alsrec._scoring`` from anywhere in
   ``alsrec``, ``alsrec.backends._numpy`` only from ``alsrec.backends``). A private
   *attribute* (``from X import _name``, not a submodule) is imported by no other module,
   not even one of the same subpackage: a name another module uses is part of ``X``'s
   interface and gets a public name.
3. ``alsrec/cli`` (the package, or a plain ``cli.py``) imports only public API: no path
   component and no imported name of ``alsrec`` starts with an underscore.
4. Loading a saved model (``import alsrec.io`` + ``Recommender.load``) imports no training
   backend module, nor ``implicit`` or ``pyspark``.
5. Size: no module over 700 code lines, no class over 400, no function over 80 (docstrings,
   blank lines and comment lines excluded), except those in ``SIZE_EXCEPTIONS`` with the
   reason written down.

The checks are pure functions, tested on small synthetic examples below, so that each is
shown to fail when it should.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

import alsrec
from alsrec import Recommender

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

SRC = Path(alsrec.__file__).resolve().parent
ROOT = "alsrec"

MODULE_LIMIT = 700
CLASS_LIMIT = 400
FUNCTION_LIMIT = 80

SIZE_EXCEPTIONS: dict[str, str] = {
    "alsrec.recommender.Recommender": (
        "the facade: about 20 public methods whose signatures (one parameter per line) are "
        "a large share of its code lines; every body validates and delegates to alsrec.model "
        "or alsrec.io"
    ),
}
"""Qualified names (module, ``module.Class`` or ``module.function``) allowed over the limit,
with the reason."""

PRIVATE_EXCEPTIONS: dict[tuple[str, str], str] = {}
"""``(importer, imported module)`` pairs allowed to break rule 2 or 3, with the reason."""

TRAINING_MODULES = frozenset(
    {"alsrec.backends._numpy", "alsrec.backends._implicit", "alsrec.backends._spark"}
)
HEAVY_PACKAGES = frozenset({"implicit", "pyspark"})


# -- reading the source ---------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    """One imported module (and, for ``from X import name``, the name)."""

    module: str
    name: str | None
    line: int
    type_checking: bool


def module_names(src: Path) -> dict[str, Path]:
    """Every module under ``src`` (a package directory) by its dotted name."""
    out: dict[str, Path] = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(tree: ast.Module, module: str, is_package: bool) -> list[Import]:
    """Every import statement of a module, anywhere in it, with relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    out: list[Import] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, guarded)
            return
        if isinstance(node, ast.Import):
            out.extend(Import(a.name, None, node.lineno, guarded) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.extend(Import(base, a.name, node.lineno, guarded) for a in node.names)
        for sub in ast.iter_child_nodes(node):
            visit(sub, guarded)

    visit(tree, False)
    return out


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def all_imports(src: Path) -> dict[str, list[Import]]:
    modules = module_names(src)
    return {
        name: imports_of(_parse(path), name, path.name == "__init__.py")
        for name, path in modules.items()
    }


# -- rule 1: cycles -------------------------------------------------------------------------


def import_graph(
    imports: Mapping[str, Iterable[Import]], known: Iterable[str]
) -> dict[str, set[str]]:
    """Edges module -> imported internal module (``from pkg import sub`` -> ``pkg.sub``).

    Imports under ``TYPE_CHECKING`` are left out; so are edges to the importer itself.
    """
    modules = set(known)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for importer, found in imports.items():
        for imp in found:
            if imp.type_checking:
                continue
            target = imp.module
            if imp.name is not None and f"{imp.module}.{imp.name}" in modules:
                target = f"{imp.module}.{imp.name}"
            if target in modules and target != importer:
                graph.setdefault(importer, set()).add(target)
    return graph


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def connect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(out)


# -- rules 2 and 3: private names -----------------------------------------------------------


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _inside(package: str, holder: str) -> bool:
    return package == holder or package.startswith(holder + ".")


def private_violation(
    importer: str, importer_is_package: bool, imp: Import, modules: Iterable[str]
) -> str | None:
    """Why ``imp`` breaks rule 2 for ``importer``, or ``None``."""
    package = importer if importer_is_package else importer.rpartition(".")[0]
    parts = imp.module.split(".")
    for i, part in enumerate(parts):
        if _private(part):
            holder = ".".join(parts[:i])
            if not _inside(package, holder):
                return f"imports private module {imp.module} from outside {holder}"
            break
    if imp.name is None or not _private(imp.name):
        return None
    if f"{imp.module}.{imp.name}" in set(modules):  # a private submodule
        if not _inside(package, imp.module):
            return f"imports private module {imp.module}.{imp.name} from outside {imp.module}"
        return None
    if importer != imp.module:  # a private attribute is used by its own module only
        return f"imports private name {imp.name} from {imp.module}"
    return None


def _packages(modules: Iterable[str]) -> set[str]:
    names = set(modules)
    return {m.rpartition(".")[0] for m in names if "." in m} & names | {ROOT}


def public_only_violation(imp: Import) -> str | None:
    """Why ``imp`` is not public API of alsrec (rule 3), or ``None``."""
    if imp.module.split(".")[0] != ROOT:
        return None
    if any(_private(part) for part in imp.module.split(".")):
        return f"imports private module {imp.module}"
    if imp.name is not None and _private(imp.name):
        return f"imports private name {imp.name} from {imp.module}"
    return None


# -- rule 5: sizes ----------------------------------------------------------------------------


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                end = body[0].end_lineno or body[0].lineno
                lines.update(range(body[0].lineno, end + 1))
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):  # attribute docstrings
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def code_lines(source: str, first: int, last: int, docstrings: set[int]) -> int:
    """Lines ``first..last`` (1-based) that are neither blank, comments, nor docstrings."""
    text = source.splitlines()
    return sum(
        1
        for n in range(first, last + 1)
        if n not in docstrings and text[n - 1].strip() and not text[n - 1].strip().startswith("#")
    )


def oversized(module: str, source: str) -> list[tuple[str, int, int]]:
    """``(qualified name, code lines, limit)`` of the module, classes and functions over."""
    tree = ast.parse(source)
    docs = _docstring_lines(tree)
    out: list[tuple[str, int, int]] = []
    total = code_lines(source, 1, len(source.splitlines()), docs)
    if total > MODULE_LIMIT:
        out.append((module, total, MODULE_LIMIT))

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}.{child.name}"
                limit = CLASS_LIMIT if isinstance(child, ast.ClassDef) else FUNCTION_LIMIT
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                size = code_lines(source, first, child.end_lineno or child.lineno, docs)
                if size > limit:
                    out.append((name, size, limit))
                visit(child, name)

    visit(tree, module)
    return out


# -- the rules applied to alsrec ------------------------------------------------------------


@pytest.fixture(scope="module")
def imports() -> dict[str, list[Import]]:
    return all_imports(SRC)


def test_the_import_graph_has_no_cycle(imports: dict[str, list[Import]]) -> None:
    graph = import_graph(imports, module_names(SRC))
    assert find_cycles(graph) == []
    assert graph["alsrec.recommender"] >= {"alsrec.io", "alsrec.model.ranking"}  # sanity


def test_private_names_stay_home(imports: dict[str, list[Import]]) -> None:
    modules = module_names(SRC)
    problems = []
    for importer, found in imports.items():
        is_package = modules[importer].name == "__init__.py"
        for imp in found:
            if imp.module.split(".")[0] != ROOT:
                continue
            why = private_violation(importer, is_package, imp, modules)
            if why and (importer, imp.module) not in PRIVATE_EXCEPTIONS:
                problems.append(f"{importer}:{imp.line} {why}")
    assert problems == []


def test_the_cli_uses_only_public_api(imports: dict[str, list[Import]]) -> None:
    cli = [m for m in imports if m == "alsrec.cli" or m.startswith("alsrec.cli.")]
    assert cli, "no alsrec.cli module found"
    problems = [
        f"{module}:{imp.line} {why}"
        for module in cli
        for imp in imports[module]
        if (why := public_only_violation(imp)) and (module, imp.module) not in PRIVATE_EXCEPTIONS
    ]
    assert problems == []


def test_sizes_stay_within_limits() -> None:
    problems = [
        f"{name}: {size} code lines (limit {limit})"
        for module, path in module_names(SRC).items()
        for name, size, limit in oversized(module, path.read_text(encoding="utf-8"))
        if name not in SIZE_EXCEPTIONS and module not in SIZE_EXCEPTIONS
    ]
    assert problems == []


def test_size_exceptions_name_existing_code_with_a_reason() -> None:
    modules = module_names(SRC)
    for name, reason in SIZE_EXCEPTIONS.items():
        assert reason.strip()
        assert any(name == m or name.startswith(m + ".") for m in modules) or not any(
            name.startswith(m) for m in modules
        )


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (this checkout's src)."""
    code += "import sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC.parent), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return set(out.stdout.split())


def test_loading_a_model_imports_no_training_backend(tmp_path: Path) -> None:
    rec = Recommender.from_factors(np.eye(2), np.eye(2), ["u1", "u2"], ["a", "b"])
    path = rec.save(tmp_path / "model")
    code = (
        "import alsrec.io\n"
        "from alsrec import Recommender\n"
        f"rec = Recommender.load({str(path)!r})\n"
        "assert rec.recommend('u1', n=1).ids.tolist() == ['a']\n"
    )
    loaded = modules_after(code)
    assert "alsrec.io" in loaded and "alsrec.recommender" in loaded
    assert loaded & TRAINING_MODULES == set()
    assert {m for m in loaded if m.split(".")[0] in HEAVY_PACKAGES} == set()
    # Only training needs these (the automatic regularization, the search's final stage).
    assert {"scipy.linalg", "scipy.stats"} & loaded == set()


SLOW_IMPORTS = frozenset({"scipy.stats", "implicit", "pyspark"})
"""Packages that take 0.5 s or more to import: only the code that uses them imports them."""


def test_starting_the_cli_imports_no_slow_package() -> None:
    # Every CLI command imports all of these; scipy.stats alone once more than doubled `alsrec
    # --version` (2.05 s against 0.83 s without it) and added 0.9 s to `alsrec train`.
    loaded = modules_after("import alsrec, alsrec.cli.app, alsrec.evaluation, alsrec.tuning\n")
    assert "alsrec.cli.app" in loaded and "alsrec.evaluation.metrics" in loaded
    slow = {m for m in loaded if any(m == p or m.startswith(p + ".") for p in SLOW_IMPORTS)}
    assert slow == set()


# -- the checks themselves fail when they should -------------------------------------------


def _imports(source: str, module: str, is_package: bool = False) -> list[Import]:
    return imports_of(ast.parse(source), module, is_package)


def test_find_cycles_on_synthetic_graphs() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert find_cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}}) == [["a", "b", "c"]]


def test_function_level_imports_count_and_type_checking_ones_do_not() -> None:
    a = _imports("def f():\n    from pkg import b\n", "pkg.a")
    b = _imports("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n", "pkg.b")
    c = _imports("import pkg.a\n", "pkg.c")
    graph = import_graph({"pkg.a": a, "pkg.b": b, "pkg.c": c}, ["pkg", "pkg.a", "pkg.b", "pkg.c"])
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == set()
    assert find_cycles(graph) == []
    b_runtime = _imports("import pkg.a\n", "pkg.b")
    graph = import_graph({"pkg.a": a, "pkg.b": b_runtime}, ["pkg", "pkg.a", "pkg.b"])
    assert find_cycles(graph) == [["pkg.a", "pkg.b"]]


def test_relative_imports_are_resolved() -> None:
    found = _imports("from . import b\nfrom ..c import d\n", "pkg.sub.a")
    assert [(i.module, i.name) for i in found] == [("pkg.sub", "b"), ("pkg.c", "d")]


def test_private_rule_on_synthetic_imports() -> None:
    modules = [
        "alsrec",
        "alsrec._scoring",
        "alsrec.recommender",
        "alsrec.artifacts",
        "alsrec.io",
        "alsrec.io.format",
        "alsrec.io.load",
        "alsrec.backends",
        "alsrec.backends._numpy",
        "alsrec.model",
        "alsrec.model.ranking",
    ]

    packages = _packages(modules)

    def why(importer: str, source: str) -> str | None:
        imp = _imports(source, importer, importer in packages)[0]
        return private_violation(importer, importer in packages, imp, modules)

    # the cases issue 15 names: a private class and function of another top-level module
    assert why("alsrec.artifacts", "from alsrec.recommender import _State")
    assert why("alsrec.artifacts", "from alsrec.recommender import _check_policy")
    # a training backend's private module from outside backends/
    assert why("alsrec.recommender", "from alsrec.backends._numpy import NumpyBackend")
    assert why("alsrec.recommender", "from alsrec.backends import _numpy")
    assert why("alsrec.io.load", "import alsrec.backends._numpy")
    # a private attribute of another module of the same subpackage (allowed before): a name
    # another module uses is part of its module's interface and gets a public name
    assert why("alsrec.io.load", "from alsrec.io.format import _fail")
    assert why("alsrec.io.load", "from .format import _fail")
    assert why("alsrec.io", "from alsrec.io.format import _fail")  # the package's __init__
    assert why("alsrec.io.format", "from alsrec.io import _helper")  # a name of the __init__
    # allowed: a private module from inside the package that holds it, public and dunder
    # names, and a module's own names
    assert why("alsrec.backends", "from alsrec.backends._numpy import NumpyBackend") is None
    assert why("alsrec.backends", "from alsrec.backends import _numpy") is None
    assert why("alsrec.model.ranking", "from alsrec._scoring import top_n") is None
    assert why("alsrec.io.load", "from alsrec.io.format import artifact_error") is None
    assert why("alsrec.io.format", "from alsrec.io.format import _fail") is None
    assert why("alsrec.recommender", "from alsrec.io import load") is None
    assert why("alsrec", "from alsrec._version import __version__") is None


def test_public_only_rule_on_synthetic_imports() -> None:
    def why(source: str) -> str | None:
        return public_only_violation(_imports(source, "alsrec.cli.train")[0])

    assert why("from alsrec._version import __version__")
    assert why("from alsrec.model.loss import _helper")
    assert why("import alsrec.backends._numpy")
    assert why("from alsrec import Recommender") is None
    assert why("from alsrec.io import inspect_artifact") is None
    assert why("import argparse") is None


def test_size_rule_on_synthetic_code() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(FUNCTION_LIMIT + 1))
    doc = '    """' + "\n".join(["doc"] * 200) + '"""\n'
    too_long = f"def f():\n{body}\n"
    assert oversized("m", too_long) == [("m.f", FUNCTION_LIMIT + 2, FUNCTION_LIMIT)]
    short = "def f():\n" + doc + "\n".join(f"    # c{i}\n" for i in range(200)) + "    return 1\n"
    assert oversized("m", short) == []
