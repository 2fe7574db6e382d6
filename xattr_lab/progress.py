"""One progress bar for all of xattr_lab: text in terminals, a plain updating output in notebooks.

Why not ``tqdm.auto``: in a notebook it draws an ipywidgets bar, and a saved notebook reopened with no
kernel shows "Error displaying widget: model not found" (or "Loading widget..." forever) in its place.
:func:`progress_bar` draws the same tqdm text line instead; in a notebook kernel it goes to a display
output that is updated in place (``update_display``: no widget, no comm), so what the saved notebook keeps
is plain text: the last line for a bar with ``leave=True``, nothing for ``leave=False``.

Example:
    >>> from xattr_lab.progress import progress_bar
    >>> with progress_bar(3, "demo", disable=True) as bar:
    ...     for _ in range(3):
    ...         bar.update(1)
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm.std import tqdm as _TextTqdm

__all__ = ["hub_bars_off", "in_notebook", "progress_bar"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, nbclient, papermill): output goes to the notebook."""
    shell = sys.modules.get("IPython") and _get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _get_ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebook stack only
        return None
    return get_ipython()


class NotebookTextBar(_TextTqdm):
    """tqdm's text bar drawn into one notebook output that is updated in place (never a widget).

    Refreshes are tqdm's own (``mininterval``), so the kernel sends at most a few updates a second.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._handle: Any = None
        kwargs["file"] = io.StringIO()  # tqdm's own writes (newlines, \r) go nowhere: display() draws
        kwargs.setdefault("ncols", 100)
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:  # noqa: D102 (tqdm's hook)
        text = self.__str__() if msg is None else msg
        bundle = {"text/plain": text}
        if self._handle is None:
            if not text:
                return True
            from IPython.display import display

            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
        return True


def progress_bar(
    total: int | None,
    desc: str = "",
    *,
    unit: str = "it",
    leave: bool = True,
    disable: bool = False,
    mininterval: float | None = None,
    file: Any = None,
) -> _TextTqdm:
    """A tqdm-compatible progress bar that leaves no broken output in a saved notebook.

    Args:
        total: number of steps (None: unknown).
        desc: the label before the bar.
        unit: what one step is ("it", "step", "region").
        leave: keep the final line when closed (False: the bar disappears on completion).
        disable: draw nothing (the bar still counts).
        mininterval: seconds between redraws (default 0.5 in notebooks, 0.1 in terminals).
        file: a text stream for a text bar (default stderr); ignored in a notebook kernel.

    Returns:
        A ``tqdm`` (``update``, ``set_postfix``, ``set_postfix_str``, ``set_description``, ``close``, a
        context manager): tqdm's text bar, or in a notebook kernel the same text in an updated output.
    """
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise ValueError(f"total: expected a non-negative int or None, got {total!r}")
    kwargs: dict[str, Any] = {"total": total, "desc": desc, "unit": unit, "leave": leave, "disable": disable}
    if file is None and in_notebook():
        kwargs["mininterval"] = 0.5 if mininterval is None else mininterval
        return NotebookTextBar(**kwargs)
    if mininterval is not None:
        kwargs["mininterval"] = mininterval
    return _TextTqdm(file=file if file is not None else sys.stderr, **kwargs)


@contextmanager
def hub_bars_off() -> Iterator[None]:
    """Switch off transformers' and huggingface_hub's own progress bars for a block (restored after).

    They are ``tqdm.auto`` bars ("Loading weights", downloads): ipywidgets in a notebook, which a saved
    notebook reopened with no kernel shows as "Loading widget...". Wrap ``from_pretrained`` calls in it.
    """
    restore = []
    try:
        from transformers.utils import logging as hf_logging

        if hf_logging.is_progress_bar_enabled():
            hf_logging.disable_progress_bar()
            restore.append(hf_logging.enable_progress_bar)
    except ImportError:
        pass
    try:
        from huggingface_hub import utils as hub_utils

        if not hub_utils.are_progress_bars_disabled():
            hub_utils.disable_progress_bars()
            restore.append(hub_utils.enable_progress_bars)
    except ImportError:
        pass
    try:
        yield
    finally:
        for undo in restore:
            undo()
