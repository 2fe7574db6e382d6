import contextlib

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    # These models and matrices are tiny: on a shared 2-core box a second torch/BLAS thread only adds
    # contention (measured 10-30x slower under load), so each test runs single-threaded.
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(1)
    except ImportError:
        limit = contextlib.nullcontext()
    with limit:
        yield
    torch.set_num_threads(old)
