"""The package's shape: each subpackage imports only the layers below it, no module imports in a
cycle, and every module can be imported on its own (so no import order hides a cycle)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "connector"

# What each part of the package may import, besides itself; the subpackages' docstrings say the same.
FOUNDATION = {"types", "errors", "record", "startup", "__init__"}
ALLOWED: dict[str, set[str]] = {
    "types": set(),
    "record": set(),
    "startup": set(),
    "errors": set(),
    "__init__": set(),
    "ghdouble": set(),  # the GitHub double stands alone: it knows nothing of the connector
    "config": {"types", "errors"},
    "spec": {"types", "errors", "config"},
    "state": {"types", "errors", "config"},
    "github": {"types", "errors", "record", "config", "state"},
    "policy": {"types", "errors", "record", "config"},
    "oauth": {"types", "errors", "record", "config", "state", "github"},  # github: who signed in with GitHub
    "http": FOUNDATION | {"config", "spec", "state", "github", "policy", "oauth"},
    "api": FOUNDATION | {"config", "spec", "state", "github", "policy", "http"},
    "mcp": FOUNDATION | {"config", "spec", "state", "github", "policy", "http"},
    "ops": FOUNDATION | {"config", "spec", "state", "github", "policy", "oauth", "http", "ghdouble"},
    "app": FOUNDATION | {"config", "spec", "state", "github", "policy", "oauth", "http", "api", "mcp"},
    "cli": FOUNDATION | {"config", "spec", "state", "github", "policy", "oauth", "http", "api", "mcp", "ops", "app"},
    "__main__": {"cli"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path, *, top_level_only: bool) -> set[str]:
    """The connector modules ``module`` imports: all of them, or only those imported when it loads
    (not inside functions, not under ``if TYPE_CHECKING``)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = _load_time_nodes(tree.body) if top_level_only else list(ast.walk(tree))
    targets = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            targets |= {name for name in names if name in _MODULES} or {target}
        elif isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
    return {target for target in targets if target.split(".")[0] == "connector"}


def _load_time_nodes(body: list[ast.stmt]) -> list[ast.AST]:
    nodes: list[ast.AST] = []
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test):
            continue
        if isinstance(statement, ast.ClassDef):
            nodes += _load_time_nodes(statement.body)
        elif isinstance(statement, (ast.If, ast.With, ast.Try)):
            nodes.append(statement)
            for block in ("body", "orelse", "finalbody", "handlers"):
                for inner in getattr(statement, block, []):
                    nodes += _load_time_nodes(getattr(inner, "body", [inner]) if isinstance(inner, ast.ExceptHandler) else [inner])
        else:
            nodes += list(ast.walk(statement))
    return nodes


_MODULES = _modules()


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_part_of_the_package_is_declared_with_what_it_may_import():
    assert {_part(module) for module in _MODULES} == set(ALLOWED)


def test_each_subpackage_imports_only_the_layers_below_it():
    wrong = sorted(
        f"{module} imports {target}"
        for module, path in _MODULES.items()
        for target in _imports(module, path, top_level_only=False)
        if _part(target) != _part(module) and _part(target) not in ALLOWED[_part(module)]
    )
    assert wrong == []


def test_no_modules_import_each_other_in_a_cycle():
    graph = defaultdict(set)
    for module, path in _MODULES.items():
        graph[module] = {target for target in _imports(module, path, top_level_only=True) if target != module}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            # Importing a.b.c runs a/__init__ and a/b/__init__ first; a package importing its own
            # modules is how packages work, so only edges between distinct modules count.
            if state.get(target) == 1 and not module.startswith(target + "."):
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_every_subpackage_says_what_it_holds_and_what_it_may_import():
    for package in sorted(path.parent for path in PACKAGE.glob("*/__init__.py")):
        docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
        if package.name == "ghdouble" or package.name == "api":
            assert docstring, package
        else:
            assert "import" in docstring, f"connector/{package.name}/__init__.py does not say what it may import"


def test_every_module_imports_on_its_own():
    """Each module imported with nothing of the package loaded before it: a cycle that a lucky
    import order hides elsewhere fails here. (``__main__`` is left out: importing it runs the CLI.)"""
    modules = sorted(name for name in _MODULES if name != "connector.__main__")
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {modules!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'connector' or m.startswith('connector.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _third_party(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add((node.module or "").split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and name not in ("connector", "__future__")}


def test_policy_is_pure_python_with_no_http_and_no_pygithub():
    imported = {name for module, path in _MODULES.items() if _part(module) == "policy" for name in _third_party(path)}
    assert imported == set()


def test_nothing_below_http_imports_the_web_framework():
    below = {"types", "errors", "record", "config", "spec", "state", "github", "policy"}
    framework = {"starlette", "uvicorn"}
    wrong = sorted(f"{module} imports {name}" for module, path in _MODULES.items() if _part(module) in below
                   for name in _third_party(path) & framework)
    assert wrong == []
