"""The training view live (the TrainingCurves widget in JupyterLab, fed by append() as a trainer's callback
does) and saved (export_html of the TrainingRun), in light and dark themes (issue 16, item 4): one panel
per quantity, each series the same colour in both, >= 3 ticks on every axis, event badges and tick labels
that neither overlap nor leave their chart."""

from __future__ import annotations

from views_support import block_network

from xattr_lab.viz.training_view import series_colour

# Live order differs from the saved (sorted) order on purpose: colours must follow the name, not the order.
LIVE = ["train_acc", "test_acc", "test_loss", "weight_norm", "med", "excluded_loss", "train_loss"]
HISTORY = (
    "import math\n"
    "history = [{'step': s, 'train_acc': min(1, s / 800), 'test_acc': 0.02 + 0.97 / (1 + math.exp((2600 - s) / 200)),\n"
    "            'test_loss': 4 * math.exp(-s / 3000) + 0.01, 'train_loss': 4 * math.exp(-s / 300) + 1e-4,\n"
    "            'weight_norm': 40 - 8 * s / 4000, 'med': 1.5 + math.sin(s / 900), 'excluded_loss': 2 + s / 4000}\n"
    "           for s in range(0, 4001, 50)]\n"
)
# Clustered events, as the grokking trainer produces them (several at one step, some close together).
EVENTS = {
    "train_acc_99": 800, "train_acc_100": 800, "test_loss_peak": 0, "weight_norm_peak": 0, "med_peak": 1400,
    "test_acc_50": 2600, "test_acc_99": 3450, "grokked": 3500,
}  # fmt: skip
LIVE_CELLS = [
    HISTORY + "from xattr_lab.viz.widgets import TrainingCurves\n"
    f"curves = TrainingCurves({LIVE!r}, title='grokking (live)', sync_every=1e9)\ncurves",
    # what GrokTrainer's callback does, point by point; then the full history is synced once
    "for rec in history:\n"
    "    curves.append(rec['step'], **{k: v for k, v in rec.items() if k != 'step'})\n"
    "curves.flush()",
    # a series first seen after the flush reaches the view only as a live 'append' message
    "curves.append(4050, lr=1e-3)\ncurves.append(4100, lr=5e-4)",
    "from xattr_lab.results.training import TrainingRun\nfrom xattr_lab.viz.html import export_html\n"
    "tail = [{'step': 4050, 'lr': 1e-3}, {'step': 4100, 'lr': 5e-4}]\n"
    f"run = TrainingRun.from_history(history + tail, events={EVENTS!r})\n"
    "export_html(run, 'saved.html')\nprint('SAVED')",
]

PROBE = """(root) => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const charts = [...root.querySelectorAll('.xl-training svg[data-panel]')].map((svg) => ({
    panel: svg.dataset.panel,
    svg: box(svg),
    xticks: [...svg.querySelectorAll('.xl-xtick')].map(box),
    yticks: [...svg.querySelectorAll('.xl-ytick')].map(box),
    badges: [...svg.querySelectorAll('.xl-ev-badge rect')].map(box),
    lines: Object.fromEntries([...svg.querySelectorAll('path.xl-line')]
      .map((p) => [p.dataset.series, p.getAttribute('stroke')])),
    chips: Object.fromEntries([...root.querySelectorAll(`.xl-key[data-panel="${svg.dataset.panel}"] [data-series]`)]
      .map((c) => [c.dataset.series, getComputedStyle(c).getPropertyValue('--xl-chip').trim()])),
  }));
  return { charts, events: [...root.querySelectorAll('.xl-events li')].map((li) => li.textContent) };
}"""


def _apart(a, b) -> bool:
    return a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5 or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5


def _inside(a, outer) -> bool:
    return a[0] >= outer[0] - 0.5 and a[1] >= outer[1] - 0.5 and a[2] <= outer[2] + 0.5 and a[3] <= outer[3] + 0.5


def _check(view: dict) -> dict[str, str]:
    """Layout checks on one rendered view; returns series → colour."""
    colours: dict[str, str] = {}
    for c in view["charts"]:
        assert len(c["xticks"]) >= 3 and len(c["yticks"]) >= 3, (c["panel"], len(c["xticks"]), len(c["yticks"]))
        labels = c["xticks"] + c["yticks"] + c["badges"]
        for i, a in enumerate(labels):
            assert _inside(a, c["svg"]), (c["panel"], a, c["svg"])
            for b in labels[i + 1 :]:
                assert _apart(a, b), (c["panel"], a, b)
        assert c["lines"] == c["chips"]  # legend chip and line agree
        for n, colour in c["lines"].items():
            assert colours.setdefault(n, colour) == colour
    return colours


def test_training_view_live_and_saved_agree(lab, browser, write_notebook, screenshots):
    write_notebook(LIVE_CELLS, lab.root / "training.ipynb")
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        lab.open_notebook(page, "training.ipynb")
        lab.run_all(page)
        page.locator(".jp-OutputArea-output", has_text="SAVED").wait_for(timeout=60_000)
        root = page.locator(".jp-OutputArea .xl-training").first
        root.locator('svg[data-panel="schedule"] path.xl-line').wait_for(timeout=20_000)  # the live append
        live = root.evaluate(PROBE)
        panels = [c["panel"] for c in live["charts"]]
        assert panels == ["losses", "accuracy", "norms and distances", "schedule"]
        live_colours = _check(live)
        assert set(live_colours) == {*LIVE, "lr"}
        assert live_colours == {n: series_colour(n) for n in live_colours}  # the Python table's colours
        root.scroll_into_view_if_needed()
        root.screenshot(path=str(screenshots / "training_live_light.png"))
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})")
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=20_000)
        page.wait_for_timeout(300)
        assert _check(root.evaluate(PROBE)) == live_colours
        root.screenshot(path=str(screenshots / "training_live_dark.png"))
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})")
        assert errors == []
    finally:
        context.close()

    saved_path = lab.root / "saved.html"
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 1100, "height": 1200}, color_scheme=scheme)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        blocked = block_network(page)
        try:
            page.goto(saved_path.as_uri())
            page.wait_for_selector(".xl-root[data-xl-ready]", timeout=10_000)
            saved = page.locator(".xl-training").evaluate(PROBE)
            assert [c["panel"] for c in saved["charts"]] == ["losses", "accuracy", "norms and distances", "schedule"]
            saved_colours = _check(saved)
            assert saved_colours == live_colours  # the same colour for every series, live and saved
            assert sum(len(c["badges"]) for c in saved["charts"]) > 0
            assert saved["events"][0].startswith("1") and len(saved["events"]) == len(EVENTS)
            page.screenshot(path=str(screenshots / f"training_saved_{scheme}.png"), full_page=True)
            assert blocked == [] and errors == []
        finally:
            context.close()
