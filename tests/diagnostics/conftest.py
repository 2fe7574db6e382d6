import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # These models are tiny: on a shared 2-core box a second thread only adds contention (10x slower).
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
