"""Sample data stays out of the domain packages (architecture review, change 3): only the
`wardflow` command may import app.demo, and no module of app/ imports another module's
private (underscore) names."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
# The command line runs `wardflow seed demo` and `wardflow seed synthetic`.
MAY_IMPORT_DEMO = {Path("app/cli.py")}


def _imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]


def _modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    module = node.module or ""
    return [module, *(f"{module}.{alias.name}" for alias in node.names)]


def test_only_the_command_imports_demo_code() -> None:
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[:2] == ("app", "demo") or relative in MAY_IMPORT_DEMO:
            continue
        for node in _imports(path):
            if any(m == "app.demo" or m.startswith("app.demo.") for m in _modules(node)):
                offenders.append(f"{relative}:{node.lineno}")
    assert not offenders, f"domain code imports app.demo: {offenders}"


def test_no_module_imports_another_modules_private_names() -> None:
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        for node in _imports(path):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {private}")
    assert not offenders, f"private names imported across modules: {offenders}"
