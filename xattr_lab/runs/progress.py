"""Progress of a run: tqdm with ETA and done/failed counts in a terminal, a live HTML line in notebooks.

The notebook view is a plain HTML ``<progress>`` element and a sentence, updated in place through an IPython
display handle (at most twice a second). It needs no widget or JavaScript, so the saved notebook shows the
final state after a reload or in exported HTML.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from typing import Any

from xattr_lab.progress import in_notebook as _in_notebook  # module attribute: tests stub it

ProgressArg = bool | None | Callable[[dict[str, Any]], None]
_MIN_INTERVAL = 0.5  # seconds between notebook redraws


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m" if h else (f"{m}m {s:02d}s" if m else f"{s}s")


class RunProgress:
    """Counts finished units and shows them.

    Args:
        total: units in the run (done before included).
        done: units already done when this session starts (ok rows).
        desc: a label (the run folder's name).
        progress: None shows a bar where a person watches (a terminal or a notebook), True always, False
            never; a callable gets a dict ``{done, failed, total, todo, key, status}`` after every unit.
    """

    def __init__(self, total: int, done: int, desc: str, progress: ProgressArg = None) -> None:
        self.total, self.done, self.failed = total, done, 0
        self.start_done = done
        self.desc = desc
        self.started = time.monotonic()
        self._callback = progress if callable(progress) else None
        self._bar: Any = None
        self._handle: Any = None
        self._last_draw = 0.0
        show = progress if isinstance(progress, bool) else (progress is None and self._watched())
        if not show:
            return
        if _in_notebook():
            from IPython.display import HTML, display

            self._handle = display(HTML(self._html()), display_id=True)
        else:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc=desc, unit="unit", leave=True, file=sys.stderr,
                             dynamic_ncols=True)  # fmt: skip
            self._bar.set_postfix_str(self._counts(), refresh=True)

    @staticmethod
    def _watched() -> bool:
        return sys.stderr.isatty() or _in_notebook()

    def _counts(self) -> str:
        return f"done={self.done} failed={self.failed}"

    def _eta(self) -> str:
        made = self.done + self.failed - self.start_done
        left = self.total - self.done - self.failed
        if made <= 0 or left <= 0:
            return ""
        rate = made / max(time.monotonic() - self.started, 1e-9)
        return f", {rate * 3600:.0f} units/h, ETA {_duration(left / rate)}"

    def _html(self, final: bool = False) -> str:
        state = "finished" if final and self.done + self.failed >= self.total else ("stopped" if final else "running")
        text = (f"{html.escape(self.desc)}: {self.done}/{self.total} done, {self.failed} failed, {state}"
                f"{'' if final else self._eta()}")  # fmt: skip
        return (f'<div class="xattr-run-progress"><progress value="{self.done + self.failed}" '
                f'max="{max(self.total, 1)}" style="width:20em"></progress> <span>{text}</span></div>')  # fmt: skip

    def update(self, key: str, status: str) -> None:
        """Count one finished unit (``status`` "ok" or "error")."""
        if status == "ok":
            self.done += 1
        else:
            self.failed += 1
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(self._counts(), refresh=False)
        if self._handle is not None and time.monotonic() - self._last_draw >= _MIN_INTERVAL:
            self._redraw(final=False)
        if self._callback is not None:
            todo = self.total - self.done - self.failed
            self._callback({"done": self.done, "failed": self.failed, "total": self.total, "todo": todo,
                            "key": key, "status": status})  # fmt: skip

    def _redraw(self, final: bool) -> None:
        from IPython.display import HTML

        self._last_draw = time.monotonic()
        self._handle.update(HTML(self._html(final)))

    def close(self) -> None:
        """Leave the final counts on screen."""
        if self._bar is not None:
            self._bar.set_postfix_str(self._counts(), refresh=True)
            self._bar.close()
            self._bar = None
        if self._handle is not None:
            self._redraw(final=True)
            self._handle = None


__all__ = ["RunProgress"]
