"""anywidget widgets for live work: the state is a view payload (binary buffers) and the selection."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from xattr_lab.viz.token_strip import token_strip_payload
from xattr_lab.viz.training_view import training_payload

_STATIC = Path(__file__).resolve().parent.parent / "static"


class XattrWidget(anywidget.AnyWidget):
    """A live view of any payload.

    Attributes:
        payload: the view payload (arrays travel as binary buffers).
        selected: the selected generated-token index (-1: none), synced both ways.
        status: a status line shown above the view (empty: hidden).
    """

    _esm = _STATIC / "widget.js"
    payload = traitlets.Dict().tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)

    def emit(self, topic: str, detail: Any) -> None:
        """Send an event to the views that are open now (e.g. ``"append"`` for live curves)."""
        self.send({"type": "event", "topic": topic, "detail": detail})


class TokenStrip(XattrWidget):
    """Prompt and generated tokens coloured by a score; click or use the arrow keys to select a token.

    Args:
        tokens: the generated tokens.
        scores: one score per token (optional).
        prompt_tokens: tokens shown before the generated ones.
        score_label: what the score is.
        title: optional title.

    Example:
        >>> strip = TokenStrip(["a", "red", "circle"], scores=[0.2, 0.9, 0.6])  # doctest: +SKIP
        >>> strip.selected  # after a click in the notebook  # doctest: +SKIP
    """

    def __init__(
        self,
        tokens: Sequence[str],
        scores: Any = None,
        prompt_tokens: Sequence[str] = (),
        score_label: str = "score",
        title: str | None = None,
        **kwargs: Any,
    ) -> None:
        payload = token_strip_payload(tokens, scores, prompt_tokens, score_label, title=title)
        super().__init__(payload=payload, **kwargs)


class TrainingCurves(XattrWidget):
    """Live training curves: ``append(step, loss=..., acc=...)`` draws new points at once.

    New points go to the open views as small messages; the full history is written into ``payload`` at
    most every ``sync_every`` seconds and on :meth:`flush`, so a saved notebook keeps the whole run.

    Args:
        names: series to expect (more may appear later).
        labels: display label per series.
        title: optional title.
        sync_every: seconds between full-state syncs.

    Example:
        >>> curves = TrainingCurves(["train_loss", "test_acc"])  # doctest: +SKIP
        >>> curves  # display it, then in the training loop:  # doctest: +SKIP
        >>> curves.append(step, train_loss=loss, test_acc=acc)  # doctest: +SKIP
    """

    def __init__(
        self,
        names: Sequence[str] = (),
        labels: Mapping[str, str] | None = None,
        title: str | None = None,
        sync_every: float = 2.0,
        **kwargs: Any,
    ) -> None:
        self._steps: list[float] = []
        self._values: dict[str, list[float]] = {str(n): [] for n in names}
        self._labels = dict(labels or {})
        self._title = title
        self._sync_every = float(sync_every)
        self._last_sync = time.monotonic()  # first sync after sync_every, not at once
        super().__init__(payload=self._payload(), **kwargs)

    def _payload(self) -> dict[str, Any]:
        data = {
            "steps": np.asarray(self._steps, dtype=np.float64),
            "series": {n: np.asarray(v, dtype=np.float64) for n, v in self._values.items()},
            "names": list(self._values),
            "labels": self._labels,
        }
        return training_payload(data, title=self._title)

    def append(self, step: float, **values: float) -> None:
        """Add one point per series at ``step`` (series not given get NaN)."""
        n = len(self._steps)
        for name in values:
            if name not in self._values:
                self._values[name] = [float("nan")] * n
        self._steps.append(float(step))
        for name, series in self._values.items():
            series.append(float(values.get(name, float("nan"))))
        detail = {"steps": [float(step)], "values": {k: [_finite_or_none(v)] for k, v in values.items()}}
        self.emit("append", detail)
        if time.monotonic() - self._last_sync >= self._sync_every:
            self.flush()

    def flush(self) -> None:
        """Write the whole history into the synced state (what a saved notebook keeps)."""
        self._last_sync = time.monotonic()
        self.payload = self._payload()

    def __len__(self) -> int:
        return len(self._steps)


def _finite_or_none(v: Any) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None
