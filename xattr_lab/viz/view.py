"""A displayable view: a payload plus a one-line summary, shown through the MIME bundle."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class View:
    """A rendered-on-demand view of plain data.

    Displayed in a notebook it produces the xattr-lab MIME type (JupyterLab, also with no kernel), a
    self-contained ``text/html`` (exports, VS Code, Colab) and ``text/plain``.
    """

    payload: dict[str, Any]
    summary: str

    def __repr__(self) -> str:
        return self.summary

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from xattr_lab.viz.bundle import payload_bundle

        return payload_bundle(self.payload, self.summary)

    def export_html(self, path: str | os.PathLike) -> Path:
        """Write the view as one self-contained HTML file (no network needed to open it)."""
        from xattr_lab.viz.html import write_html

        return write_html(self.payload, self.summary, path, title=self.summary)

    def widget(self) -> Any:
        """The same view as a live anywidget (selection synced with the kernel)."""
        from xattr_lab.viz.widgets import XattrWidget

        return XattrWidget(payload=self.payload)
