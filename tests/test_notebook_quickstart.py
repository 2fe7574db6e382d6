"""Execute notebooks/01_quickstart.ipynb end to end (it loads the ShapesVLM)."""

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_quickstart.ipynb"


def _weights_ready() -> bool:
    try:
        from xattr_lab.models.toy.build import WEIGHTS_DIR
    except ImportError:
        return False
    return (Path(WEIGHTS_DIR) / "model.safetensors").exists()


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.skipif(not _weights_ready(), reason="the ShapesVLM weights are not built")
def test_quickstart_notebook_runs(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for o in outputs)
    assert "Explanation(eagle" in text and "pointing" in text
