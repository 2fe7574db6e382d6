"""Layers look only down: the import graph of the package, read from the source (no imports executed)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from xattr_lab.scoring.orders import order_from_scores

PKG = Path(__file__).resolve().parents[2] / "xattr_lab"


def _imports(sub: str) -> dict[str, set[str]]:
    """Module path -> every xattr_lab module it imports (top level or inside functions)."""
    out: dict[str, set[str]] = {}
    for path in sorted((PKG / sub).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("xattr_lab"):
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names if a.name.startswith("xattr_lab"))
        out[str(path.relative_to(PKG.parent))] = names
    return out


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("scoring", ("xattr_lab.attr", "xattr_lab.metrics", "xattr_lab.viz", "xattr_lab.results")),
        ("metrics", ("xattr_lab.attr", "xattr_lab.viz")),
        ("attr", ("xattr_lab.viz",)),
        ("models", ("xattr_lab.attr", "xattr_lab.metrics", "xattr_lab.scoring", "xattr_lab.viz")),
        ("inputs", ("xattr_lab.attr", "xattr_lab.metrics", "xattr_lab.scoring", "xattr_lab.viz")),
    ],
)
def test_layers_import_only_downwards(layer: str, forbidden: tuple[str, ...]) -> None:
    bad = {
        mod: sorted(n for n in names if n.startswith(forbidden))
        for mod, names in _imports(layer).items()
        if any(n.startswith(forbidden) for n in names)
    }
    assert not bad, f"{layer} imports a layer above it: {bad}"


def test_order_from_scores_is_float64_stable_and_ranks_nan_last() -> None:
    # Two scores that tie in float32 but not in float64 keep their float64 order.
    s = np.array([0.5, 1.0 + 1e-12, 1.0, np.nan, 1.0])
    assert order_from_scores(s).tolist() == [1, 2, 4, 0, 3]
    assert order_from_scores(s).dtype == np.int64
