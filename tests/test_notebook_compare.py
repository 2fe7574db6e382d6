"""Execute notebooks/02_compare_methods.ipynb end to end (ShapesVLM, several methods, the comparison)."""

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK = NOTEBOOKS / "02_compare_methods.ipynb"


def _weights_ready() -> bool:
    try:
        from xattr_lab.models.toy.build import WEIGHTS_DIR
    except ImportError:
        return False
    return (Path(WEIGHTS_DIR) / "model.safetensors").exists()


def test_notebook_is_committed_without_outputs():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.skipif(not _weights_ready(), reason="the ShapesVLM weights are not built")
def test_compare_notebook_runs():
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for o in outputs)
    assert "Comparison(6 methods" in text and "tam_msea_arc" in text and "TextAttribution(" in text
    mimes = {k for o in outputs for k in o.get("data", {})}
    assert "application/vnd.xattr-lab.v1+json" in mimes
