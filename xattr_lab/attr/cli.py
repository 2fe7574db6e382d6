"""``xattr-lab explain``: explain one answer of a model from the command line.

Example: ``xattr-lab explain --model toy-shapes --scene 7 --method eagle --search efficient --out e.xattr``
prints the Explanation's summary and metrics as strict JSON (NaN as null), and saves it (and an HTML
report) when asked. Exit status: 0 done, 2 a user error (one line naming the option, no traceback), 130
after Ctrl-C; an interrupted search still prints (and saves) its partial result, with ``"partial": true``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from xattr_lab.cli_common import EXIT_INTERRUPTED, check_writable, dumps


def _image_and_prompt(args: argparse.Namespace) -> tuple[Any, str]:
    if args.image:
        import numpy as np
        from PIL import Image, UnidentifiedImageError

        path = Path(args.image).expanduser()
        if not path.is_file():
            raise ValueError(f"--image: no such file: {args.image}")
        try:
            with Image.open(path) as img:
                return np.asarray(img.convert("RGB")), args.prompt
        except (UnidentifiedImageError, OSError) as err:
            raise ValueError(f"--image: cannot read {args.image} as an image ({err})") from None
    from xattr_lab.datasets.shapes import sample

    s = sample(args.scene, args.task)
    return s.image, args.prompt or s.prompt


def _parser() -> argparse.ArgumentParser:
    from xattr_lab.datasets.shapes import TASKS

    p = argparse.ArgumentParser(prog="xattr-lab explain", description=__doc__.split("\n")[0])
    p.add_argument("--model", default="toy-shapes", help="a load_model spec (default: the ShapesVLM)")
    p.add_argument("--image", default=None, help="image file (else a ShapesVLM scene)")
    p.add_argument("--scene", type=int, default=1_000_003, help="ShapesVLM scene seed (>= 0) when no --image")
    p.add_argument("--task", default="colour", choices=TASKS, help="ShapesVLM task of the scene")
    p.add_argument("--prompt", default=None)
    p.add_argument("--method", default="eagle")
    p.add_argument("--tokens", default="all", help="'all', 'word:<text>' or comma-separated positions")
    p.add_argument("--regions", default="slico:64")
    p.add_argument("--search", default=None, choices=["greedy", "bidirectional", "efficient"])
    p.add_argument("--early-stop", type=float, default=None)
    p.add_argument("--target", default=None, help="explain this answer instead of the generated one")
    p.add_argument("--out", default=None, help="save the Explanation to this directory")
    p.add_argument("--html", default=None, help="write an offline HTML report here")
    return p


def main(argv: list[str]) -> int:
    """Run ``xattr-lab explain``; returns the exit status (0, 2 for a user error, 130 after Ctrl-C)."""
    p = _parser()
    args = p.parse_args(argv)

    tokens: Any = args.tokens
    if tokens not in ("all",) and not tokens.startswith("word:"):
        try:
            tokens = [int(t) for t in tokens.split(",")]
        except ValueError:
            p.error("--tokens: expected 'all', 'word:<text>' or comma-separated integers")
    if args.image and not args.prompt:
        p.error("--prompt is required with --image")
    if not args.image and args.scene < 0:
        p.error(f"--scene: expected a scene seed >= 0, got {args.scene}")
    # Refuse unwritable outputs before the work, not after it.
    if args.out is not None:
        check_writable(args.out, "--out", directory=True)
    if args.html is not None:
        check_writable(args.html, "--html", directory=False)

    import xattr_lab
    from xattr_lab.attr.arguments import check_method_name

    check_method_name(args.method)  # a typo fails before the model loads
    image, prompt = _image_and_prompt(args)
    try:
        model = xattr_lab.load_model(args.model)
    except ValueError as err:
        raise ValueError(f"--model: {err}") from None
    params = {} if args.early_stop is None else {"early_stop": args.early_stop}
    e = xattr_lab.explain(model, image, prompt, args.method, tokens, args.regions, args.search, args.target, **params)
    print(repr(e), file=sys.stderr)
    summary = {
        "summary": repr(e),
        "answer": e.generation.text,
        "partial": bool(e.partial),
        "metrics": e.metrics,
        "cost": e.cost,
    }
    print(dumps(summary), flush=True)
    # A partial result is saved too (marked partial in the file): an interrupted hour of search is kept.
    if args.out:
        e.save(args.out)
    if args.html:
        try:
            e.export_html(args.html)
        except RuntimeError as err:
            print(f"xattr-lab explain: no HTML report: {err}", file=sys.stderr)
    if e.partial:
        print("xattr-lab explain: interrupted; the result above is partial", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0
