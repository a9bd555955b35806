"""The layers of ntklib: data flows one way, and no module reaches into another's privates.

data/features/net -> ntk -> train -> linearize -> dynamics -> plots -> panels -> widgets
(`_validate` and `exercises` at the bottom). A module imports only modules below it, and
never a private name (`_x`) of another module; private modules (`_validate`) are shared
helpers whose public names anyone below may use.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ntklib"
RANK = {"_validate": 0, "exercises": 1, "data": 1, "features": 1, "net": 1, "ntk": 2,
        "train": 3, "linearize": 4, "dynamics": 5, "plots": 6, "panels": 7, "widgets": 8}
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or
                 p.parent.name == "panels")


def _owner(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(tree: ast.AST, path: Path):
    """(module name, imported names, alias) for every import of an ntklib module."""
    here = _owner(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = node.module.split(".")[0] if node.module else None
            if base is None or (here == "panels" and node.level == 1 and path.parent.name ==
                                "panels"):
                if base is None:  # from . import x, y   /  from .. import x
                    for a in node.names:
                        if node.level == 1 and path.parent.name == "panels":
                            yield "panels", [a.name], a.asname or a.name
                        else:
                            yield a.name, [], a.asname or a.name
                    continue
                yield "panels", [a.name for a in node.names], None
                continue
            yield base, [a.name for a in node.names], None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_and_names_stay_public(path):
    here = _owner(path)
    tree = ast.parse(path.read_text())
    aliases = {}
    for module, names, alias in _imports(tree, path):
        if module == here:
            continue
        assert module in RANK, f"{path.name} imports an unknown ntklib module {module}"
        assert RANK[module] < RANK[here], (
            f"{path.name} ({here}) imports {module}, a module of a layer above or beside it")
        private = [n for n in names if n.startswith("_")]
        assert not private, f"{path.name} imports private names {private} of {module}"
        if alias:
            aliases[alias] = module
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            pytest.fail(f"{path.name} uses {node.value.id}.{node.attr}, a private name of "
                        f"{aliases[node.value.id]}")
