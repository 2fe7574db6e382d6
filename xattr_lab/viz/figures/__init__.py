"""plotly figures of the results, for slides and papers (static companions of the interactive views).

One module per result type; each result's ``figure()`` method imports its module lazily, so neither the
results nor ``import xattr_lab`` pay for plotly. :func:`figure_html` writes a figure as one offline HTML
file with plotly.js inlined (no CDN, no network).
"""

from __future__ import annotations

from xattr_lab.viz.figures._common import figure_html

__all__ = ["figure_html"]
