import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # for tests/models/tiny.py


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread; two spin at OpenMP barriers on a busy machine."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def toy():
    from xattr_lab.models.loading import load_model

    return load_model("toy-shapes", device="cpu")


@pytest.fixture(scope="session")
def tiny_models():
    """Cache of tiny random models by family name (each built once per session)."""
    from tiny import FAMILIES

    from xattr_lab.models.loading import load_model

    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_model(FAMILIES[name](), device="cpu")
        return cache[name]

    return get


@pytest.fixture
def rgb_image():
    return np.random.default_rng(0).integers(0, 256, (40, 52, 3), dtype=np.uint8)
