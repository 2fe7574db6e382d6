"""Views: anywidget widgets, MIME bundles and self-contained HTML, all from the same JS views."""

from xattr_lab.viz.token_strip import token_strip, token_strip_payload
from xattr_lab.viz.view import View

__all__ = ["View", "token_strip", "token_strip_payload"]
