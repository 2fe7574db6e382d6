"""The package skeleton: fast import, versions in step, CLI, wheel contents, MIME bundle safety."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_is_light():
    code = (
        "import sys, xattr_lab; xattr_lab.__version__; dir(xattr_lab);"
        "print([m for m in ('torch', 'transformers', 'captum', 'anywidget') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_python_and_js_versions_agree():
    import xattr_lab

    assert json.loads((ROOT / "package.json").read_text())["version"] == xattr_lab.__version__


def test_unknown_attribute_is_a_clear_error():
    import xattr_lab

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        xattr_lab.nope  # noqa: B018


def test_cli_help_and_unknown_command(capsys):
    from xattr_lab.cli import main

    assert main(["--help"]) == 0
    assert "bench NAME" in capsys.readouterr().out
    assert main(["frobnicate"]) == 2
    assert main(["bench", "nope"]) == 2


def test_token_strip_bundle_escapes_markup():
    from xattr_lab.viz import token_strip
    from xattr_lab.viz.html import MIME_TYPE

    evil = ["</script><script>alert(1)</script>", "<img src=x onerror=alert(1)>", "&amp;"]
    bundle = token_strip(evil, [0.1, 0.5, 0.9])._repr_mimebundle_()
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    html = bundle["text/html"]
    # The only script elements are ours: payload JSON and the inline bundle; no token text appears raw.
    assert "<img src=x" not in html
    assert html.count("<script") == 2
    assert "alert(1)</script>" not in html
    data = bundle[MIME_TYPE]["data"]
    assert data["tokens"] == evil  # the JSON payload keeps the text exactly
    assert isinstance(data["scores"]["data"], str)  # base64, not a JSON list of numbers


def test_token_strip_rejects_bad_input():
    from xattr_lab.viz import token_strip

    with pytest.raises(TypeError, match="tokens"):
        token_strip("abc")
    with pytest.raises(TypeError, match="tokens"):
        token_strip(["a", 3])
    with pytest.raises(ValueError, match="scores"):
        token_strip(["a", "b"], [0.1])


def test_export_html_is_self_contained(tmp_path):
    from xattr_lab.viz import token_strip

    path = token_strip(["a", "b"], [0.0, 1.0]).export_html(tmp_path / "strip.html")
    text = path.read_text()
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    with pytest.raises(ValueError, match="path"):
        token_strip(["a"]).export_html(tmp_path / "strip.txt")


def test_widget_state_uses_binary_buffers():
    from ipywidgets.widgets.widget import _remove_buffers

    from xattr_lab import TokenStrip

    w = TokenStrip(["a", "b", "c"], scores=[0.1, 0.2, 0.3])
    state, paths, buffers = _remove_buffers(w.get_state())
    assert ["payload", "data", "scores", "data"] in paths
    assert len(buffers) == 1 and bytes(buffers[0])[:4] == bytes(memoryview(b"\xcd\xcc\xcc="))  # 0.1 as float32
    assert w.selected == -1
    w.close()


@pytest.mark.slow
def test_wheel_carries_built_js_and_labextension(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("xattr_lab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "xattr_lab/static/widget.js" in names
    assert "xattr_lab/static/standalone.js" in names
    shared = [n for n in names if "/share/jupyter/labextensions/xattr-lab/" in n]
    assert any(n.endswith("/package.json") for n in shared)
    assert any(n.endswith("/install.json") for n in shared)
    assert any("/static/remoteEntry." in n for n in shared)
    assert not any(n.startswith(("node_modules/", ".venv/", "js/")) for n in names)


def test_labextension_is_enabled():
    out = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter"), "labextension", "list"], capture_output=True, text=True
    )
    text = out.stdout + out.stderr
    line = next(ln for ln in text.splitlines() if "xattr-lab" in ln)
    assert "enabled" in line and "OK" in line
