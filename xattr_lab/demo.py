"""The ``make demo`` / ``xattr-lab demo`` job (foundation version: grows into DESIGN §9's demo)."""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Render a token strip and write it as a self-contained HTML report."""
    parser = argparse.ArgumentParser(prog="xattr-lab demo")
    parser.add_argument("--out", default="demo-report.html", help="where to write the HTML report")
    args = parser.parse_args(argv)
    from xattr_lab.viz import token_strip

    tokens = ["a", "red", "circle", "above", "a", "blue", "square"]
    scores = [0.12, 0.91, 0.78, 0.35, 0.10, 0.88, 0.69]
    view = token_strip(tokens, scores, prompt_tokens=["<image>", "Describe", "the", "scene", "."])
    path = view.export_html(Path(args.out))
    for tok, s in zip(tokens, scores):
        print(f"{tok:>8s}  {'#' * int(s * 40)} {s:.2f}")
    print(f"wrote {path.resolve()}")
    return 0
