"""Feedback as plain text and as a static HTML block: inline styles, no script, so it reads with no kernel."""

from __future__ import annotations

from html import escape

from xattr_lab.workshop.exercise import Feedback

_MARK = {"correct": "✓", "close": "≈", "wrong": "✗", "unanswered": "?"}
_TITLE = {"correct": "correct", "close": "close", "wrong": "not yet", "unanswered": "your prediction goes here"}
# Readable on light and dark themes: a coloured rule and a faint tint of the same colour.
_COLOUR = {"correct": "#2e7d32", "close": "#b26a00", "wrong": "#c62828", "unanswered": "#607d8b"}


def _lines(fb: Feedback) -> list[tuple[str, str]]:
    rows = []
    if fb.note:
        rows.append(("", fb.note))
    if fb.hint:
        rows.append(("Hint: ", fb.hint))
    if fb.explanation:
        rows.append(("Why: ", fb.explanation))
    return rows


def feedback_text(fb: Feedback) -> str:
    """One header line and the hint or explanation, for a console."""
    head = f"{_MARK[fb.verdict]} {fb.exercise_id}: {_TITLE[fb.verdict]}"
    return "\n".join([head, *(f"  {label}{text}" for label, text in _lines(fb))])


def feedback_html(fb: Feedback) -> str:
    """A self-contained HTML block (no JS, no external CSS) for notebooks and nbconvert exports."""
    colour = _COLOUR[fb.verdict]
    body = "".join(
        f"<div>{f'<b>{escape(label)}</b>' if label else ''}{escape(text)}</div>" for label, text in _lines(fb)
    )
    return (
        f'<div class="xattr-lab-feedback" data-verdict="{fb.verdict}" '
        f'style="border-left:4px solid {colour};background:{colour}14;padding:6px 10px;margin:4px 0;'
        'font-family:system-ui,sans-serif;font-size:13px;line-height:1.45">'
        f'<div style="font-weight:600;color:{colour}">{_MARK[fb.verdict]} {escape(fb.exercise_id)}: '
        f"{_TITLE[fb.verdict]}</div>{body}</div>"
    )
