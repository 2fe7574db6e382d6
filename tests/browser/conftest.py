"""Real-browser fixtures: Debian's chromium driven by Playwright, and a JupyterLab server on a free port.

Never downloads a browser: chromium must be at /usr/bin/chromium (``make test`` installs it on Debian).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("XATTR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: run `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A JupyterLab server on loopback with its root in a temporary folder."""

    def __init__(self, root: Path, port: int, proc: subprocess.Popen) -> None:
        self.root, self.port, self.proc = root, port, proc
        self.url = f"http://127.0.0.1:{port}"

    def api(self, path: str, method: str = "GET") -> object:
        req = urllib.request.Request(f"{self.url}{path}", method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        for session in self.api("/api/sessions"):  # type: ignore[union-attr]
            self.api(f"/api/sessions/{session['id']}", method="DELETE")

    def open_notebook(self, page, name: str, timeout: float = 90_000):
        """Open a notebook and wait until JupyterLab shows it."""
        page.goto(f"{self.url}/lab/tree/{name}?reset", wait_until="domcontentloaded")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=timeout)
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout)
        return page

    def dismiss_kernel_dialog(self, page) -> None:
        """Answer JupyterLab's "Select Kernel" dialog with "No Kernel"."""
        button = page.locator(".jp-Dialog button", has_text="No Kernel")
        button.wait_for(timeout=30_000)
        button.click()
        page.locator(".jp-Dialog").wait_for(state="detached", timeout=10_000)

    def run_all(self, page, timeout: float = 120_000) -> None:
        """Run all cells of the open notebook through JupyterLab's own command, then wait for the kernel."""
        page.wait_for_function(
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
            " && w.sessionContext.session.kernel.status === 'idle'; }",
            timeout=timeout,
        )
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        self.wait_idle(page, timeout)

    def wait_idle(self, page, timeout: float = 120_000) -> None:
        page.wait_for_timeout(300)
        page.wait_for_function(
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " const k = w.sessionContext.session && w.sessionContext.session.kernel;"
            " const busy = [...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));"
            " return k && k.status === 'idle' && !busy; }",
            timeout=timeout,
        )


def _start_lab(root: Path, extra_args: list[str]) -> LabServer:
    port = _free_port()
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or "jupyter"
    # Quiet, reproducible JupyterLab: its own settings folder, with the news pop-up switched off.
    settings = root.parent / f"lab-settings-{port}"
    notif = settings / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True, exist_ok=True)
    (notif / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(settings))
    log = open(root.parent / f"lab-{port}.log", "w")  # noqa: SIM115  (kept open for the server's life)
    proc = subprocess.Popen(
        [
            jupyter, "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
            "--allow-root", "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
            f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True", *extra_args,
        ],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    server = LabServer(root, port, proc)
    server.log = log
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited early; see {log.name}")
        try:
            server.api("/api/status")
            return server
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    pytest.fail(f"jupyter lab did not start in 120 s; see {log.name}")


def _stop_lab(server: LabServer) -> None:
    try:
        server.shutdown_kernels()
    except OSError:
        pass
    server.proc.terminate()
    try:
        server.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.proc.kill()
    server.log.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Iterator[LabServer]:
    """JupyterLab with the venv's python3 kernel."""
    server = _start_lab(tmp_path_factory.mktemp("lab-root"), [])
    yield server
    _stop_lab(server)


@pytest.fixture(scope="session")
def lab_no_kernel(tmp_path_factory) -> Iterator[LabServer]:
    """JupyterLab that can start no kernel at all: what a reader of a shared notebook has."""
    no_kernels = ["--KernelSpecManager.allowed_kernelspecs=xattr-none"]
    server = _start_lab(tmp_path_factory.mktemp("lab-nokernel-root"), no_kernels)
    yield server
    _stop_lab(server)


def _execute_notebook(cells: list[str], path: Path, cwd: Path | None = None) -> None:
    """Execute code cells headlessly (nbclient, like papermill or nbconvert --execute) and save the result."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    resources = {"metadata": {"path": str(cwd or path.parent)}}
    NotebookClient(nb, kernel_name="python3", timeout=300, resources=resources).execute()
    nbformat.write(nb, path)


def _write_notebook(cells: list[str], path: Path) -> None:
    """Write an unexecuted notebook."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="session")
def execute_notebook():
    """``execute_notebook(cells, path)``: run code cells headlessly and save the executed notebook."""
    return _execute_notebook


@pytest.fixture(scope="session")
def write_notebook():
    """``write_notebook(cells, path)``: save an unexecuted notebook."""
    return _write_notebook
