"""Handouts: one executed, self-contained HTML file per workshop notebook, interactive with no network.

``make handouts`` runs ``python -m xattr_lab.workshop.handouts``. Each notebook is executed (or its saved
outputs are used, ``--no-execute``), cleaned for a page with no kernel, and exported with nbconvert's
JupyterLab template minus everything it loads from a CDN (require.js, MathJax, mermaid, the widget manager).
What stays interactive: the xattr-lab views, whose ``text/html`` carries the view bundle inline, and plotly
figures, written with plotly.js inlined once per page. Live widgets need a kernel, so a widget output is
replaced by its text (the saved result view that follows it in the notebook carries the same data).
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "handout_template"
TEMPLATE_NAME = "xattr_handout"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
_WIDGET_NOTE = (
    '<div class="xattr-lab-handout-note" style="font-family:system-ui,sans-serif;font-size:12px;opacity:.7">'
    "(live view: it needs a running kernel; the saved view of the same data follows)</div>"
)
# Elements that make a browser fetch something: scripts, stylesheets, images, frames, CSS imports and urls.
_EXTERNAL = re.compile(
    r"""<(?:script|img|iframe|embed|source|audio|video)\b[^>]*\bsrc\s*=\s*["']?(?!data:|blob:|#)([^"'\s>]+)"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(?!data:|#)([^"'\s>]+)"""
    r"""|@import\s+(?:url\()?["']?(?!data:)([^"')\s;]+)"""
    r"""|url\(\s*["']?((?:https?:)?//[^"')\s]+)""",
    re.IGNORECASE,
)
# A solution cell: <details><summary>…</summary> markdown </details>. nbconvert's markdown renderer closes the
# <details> before the markdown inside it, which would print every solution open; it goes in as raw HTML.
_DETAILS = re.compile(r"^\s*<details>\s*<summary>(.*?)</summary>(.*)</details>\s*$", re.DOTALL)


def external_references(html: str) -> list[str]:
    """Every resource an HTML page would load from outside itself (empty for a self-contained page)."""
    return [next(g for g in m.groups() if g) for m in _EXTERNAL.finditer(html)]


def execute(nb: Any, cwd: Path, timeout: int = 900) -> Any:
    """Run a notebook in place, in ``cwd``, with one BLAS/OpenMP thread and the hub offline.

    Args:
        nb: an nbformat notebook node (changed in place and returned).
        cwd: the working directory of the kernel (the notebook's folder).
        timeout: seconds allowed per cell.
    """
    import nbclient

    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        client = nbclient.NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
        )
        client.execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


def _plotly_html(figure: dict[str, Any], first: bool) -> str:
    import plotly.io as pio

    # plotly.js goes inline once per page; later figures reuse it. A figure wider than the page (slides are
    # 1300 px) scrolls sideways instead of losing its legend.
    html = pio.to_html(figure, include_plotlyjs=bool(first), full_html=False)
    return f'<div class="xattr-lab-plotly" style="overflow-x:auto;max-width:100%">{html}</div>'


def clean(nb: Any) -> Any:
    """A copy of ``nb`` that renders with no kernel and no network.

    Widget outputs become a short note plus their text; plotly outputs get inline HTML (plotly.js once);
    solutions stay folded (raw HTML ``<details>``); saved widget state is dropped (nbconvert would load a
    widget manager from a CDN for it).
    """
    out = copy.deepcopy(nb)
    out.metadata.pop("widgets", None)
    out.cells = [_solution_as_html(cell) for cell in out.cells]
    plotly_seen = False
    for cell in out.cells:
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            if WIDGET_MIME in data:
                data.pop(WIDGET_MIME)
                if "text/html" not in data:
                    text = str(data.get("text/plain", ""))
                    data["text/html"] = _WIDGET_NOTE if text.startswith("<") else _WIDGET_NOTE + _pre(text)
            if PLOTLY_MIME in data and "text/html" not in data:
                data["text/html"] = _plotly_html(data[PLOTLY_MIME], first=not plotly_seen)
                plotly_seen = True
    return out


def _solution_as_html(cell: Any) -> Any:
    """A markdown ``<details>`` cell as a raw HTML cell that stays folded in the export; others unchanged."""
    match = _DETAILS.match(cell.get("source", "")) if cell.get("cell_type") == "markdown" else None
    if match is None:
        return cell
    import nbformat
    from nbconvert.filters import markdown2html

    body = markdown2html(match.group(2))
    html = f'<details class="xattr-lab-solution"><summary>{match.group(1)}</summary>{body}</details>'
    return nbformat.v4.new_raw_cell(html, metadata={"raw_mimetype": "text/html", "xattr_solution": True})


def _pre(text: str) -> str:
    from html import escape

    return f"<pre>{escape(text)}</pre>" if text else ""


def render(nb: Any, title: str) -> str:
    """The notebook as one HTML page (JupyterLab look, light theme, images embedded, no CDN)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATES)], embed_images=True
    )
    nb.metadata["title"] = title
    html, _ = exporter.from_notebook_node(nb)
    return html


def build_handout(notebook: str | os.PathLike, out_dir: str | os.PathLike, execute_first: bool = True,
                  timeout: int = 900) -> Path:
    """Write ``<out_dir>/<notebook stem>.html``.

    Args:
        notebook: the ``.ipynb`` file.
        out_dir: the folder for the handout (created).
        execute_first: run the notebook first (else use its saved outputs).
        timeout: seconds allowed per cell when executing.

    Returns:
        The path written.

    Raises:
        FileNotFoundError: no such notebook.
        ValueError: ``notebook`` is not an ``.ipynb`` file, or the page still loads something from outside
            (a bug in the template or an output).
        RuntimeError: a cell raised while executing (nbclient's error, with the cell).
    """
    import nbformat

    path = Path(notebook)
    if path.suffix != ".ipynb":
        raise ValueError(f"notebook: expected an .ipynb file, got {str(path)!r}")
    if not path.is_file():
        raise FileNotFoundError(f"notebook: {path} does not exist")
    nb = nbformat.read(path, as_version=4)
    if execute_first:
        try:
            execute(nb, path.resolve().parent, timeout)
        except Exception as err:  # nbclient's CellExecutionError and timeouts
            raise RuntimeError(f"{path.name}: execution failed: {err}") from err
    html = render(clean(nb), title=path.stem.replace("_", " "))
    leaks = external_references(html)
    if leaks:
        raise ValueError(f"{path.name}: the handout would load {leaks[:5]} from outside the file")
    target = Path(out_dir) / f"{path.stem}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, "utf-8")
    return target


def build_handouts(notebooks: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
                   execute_first: bool = True, timeout: int = 900) -> list[Path]:
    """Build a handout per notebook, in order; prints one line per notebook (size and seconds)."""
    written = []
    for notebook in notebooks:
        start = time.perf_counter()
        target = build_handout(notebook, out_dir, execute_first, timeout)
        seconds = time.perf_counter() - start
        print(f"{target}  {target.stat().st_size / 1024:.0f} KB  {seconds:.0f} s", flush=True)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m xattr_lab.workshop.handouts [--out DIR] [--no-execute] [NOTEBOOK ...]``."""
    parser = argparse.ArgumentParser(prog="python -m xattr_lab.workshop.handouts", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help=f"notebooks (default: notebooks/{NOTEBOOK_GLOB})")
    parser.add_argument("--out", default="handouts", help="output folder (default: handouts)")
    parser.add_argument("--no-execute", action="store_true", help="use the saved outputs instead of running")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(str(p) for p in Path("notebooks").glob(NOTEBOOK_GLOB))
    if not notebooks:
        print(f"no notebooks given and none match notebooks/{NOTEBOOK_GLOB}", file=sys.stderr)
        return 2
    try:
        build_handouts(notebooks, args.out, not args.no_execute, args.timeout)
    except (OSError, ValueError, RuntimeError) as err:
        print(f"handouts: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
