"""The subset scorer's memory is bounded by one chunk: independent of N, capped by bytes, backing off on OOM."""

import numpy as np
import pytest
import torch

from xattr_lab.attr.synthetic import SyntheticModel
from xattr_lab.inputs import make_regions
from xattr_lab.models.batching import AutoBatch, batch_for_budget, is_oom
from xattr_lab.models.masking import baseline_image, mask_images
from xattr_lab.scoring.subsets import BYTES_PER_PIXEL, MAX_CHUNK, SubsetScorer

CPU_OOM = "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: not enough memory: you tried to allocate 4 GB"


@pytest.fixture(scope="module")
def model():
    return SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))


class _Limited:
    """Wraps a model: ``score`` fails like the host running out of memory above ``limit`` masks."""

    def __init__(self, inner, limit, error=MemoryError, batch_size=None):
        self.inner, self.limit, self.error, self.sizes = inner, limit, error, []
        if batch_size is not None:
            self.batch_size = batch_size

    def score(self, gen, masks, **kw):
        self.sizes.append(int(masks.shape[0]))
        if masks.shape[0] > self.limit:
            raise self.error(CPU_OOM) if self.error is RuntimeError else self.error()
        return self.inner.score(gen, masks, **kw)


def _scorer(model, spec="grid:8", **kw):
    gen = model.generate() if hasattr(model, "generate") else model.inner.generate()
    image = gen.image
    return SubsetScorer(model, gen, make_regions(spec, image), range(4), **kw)


def _sets(n=64):
    return [1 << i for i in range(n)] + [(1 << n) - 1 - (1 << i) for i in range(n)]


def test_chunks_are_capped_by_bytes_and_scores_do_not_change(model):
    free = _scorer(model)
    ref = free.probs(_sets())
    assert free.chunk_size == MAX_CHUNK and free.n_calls == 1
    per_mask = 32 * 32 * BYTES_PER_PIXEL
    tight = _scorer(model, memory_budget=10 * per_mask)
    assert tight.chunk_size == 10
    np.testing.assert_array_equal(tight.probs(_sets()), ref)
    assert tight.n_calls == 13 and tight.n_forward == 128
    # an explicit batch size is capped by the budget too; one mask is always allowed
    assert _scorer(model, batch_size=64, memory_budget=3 * per_mask).chunk_size == 3
    assert _scorer(model, memory_budget=1).chunk_size == 1


def test_default_chunk_follows_the_model_batch(model):
    wrapped = _Limited(model, limit=10**9, batch_size=16)
    sc = _scorer(wrapped)
    assert sc.chunk_size == 16
    sc.probs(_sets())
    assert max(wrapped.sizes) == 16 and sc.n_calls == 8


@pytest.mark.parametrize("error", [MemoryError, RuntimeError])
def test_host_out_of_memory_halves_the_chunk_and_keeps_every_score(model, error):
    ref = _scorer(model).probs(_sets())
    wrapped = _Limited(model, limit=20, error=error)
    sc = _scorer(wrapped)
    np.testing.assert_array_equal(sc.probs(_sets()), ref)
    assert wrapped.sizes[:3] == [128, 64, 32] and max(wrapped.sizes[3:]) <= 20
    assert sc.chunk_size == 16 and sc.n_forward == 128  # the smaller size sticks; nothing scored twice


def test_other_errors_and_hopeless_oom_propagate(model):
    class Broken(_Limited):
        def score(self, gen, masks, **kw):
            raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        _scorer(Broken(model, 0)).probs(_sets())
    with pytest.raises(MemoryError):
        _scorer(_Limited(model, limit=0)).probs(_sets(4))


def test_memory_budget_is_checked(model):
    for bad in (0, -1, 1.5, True, None):
        with pytest.raises(ValueError, match="memory_budget"):
            _scorer(model, memory_budget=bad)


def test_is_oom_covers_host_and_accelerator():
    assert is_oom(MemoryError())
    assert is_oom(RuntimeError(CPU_OOM))
    assert is_oom(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_oom(RuntimeError("[Errno 12] Cannot allocate memory"))
    assert not is_oom(RuntimeError("expected scalar type Float"))
    assert not is_oom(ValueError("not enough memory"))


def test_batch_for_budget():
    assert batch_for_budget(100, 1000, 64) == 10
    assert batch_for_budget(100, 10**9, 64) == 64
    assert batch_for_budget(10**9, 100, 64) == 1
    with pytest.raises(ValueError, match="cap"):
        batch_for_budget(1, 1, 0)


def test_autobatch_backs_off_on_host_oom():
    batch = AutoBatch(8)

    def fn(start, stop):
        if stop - start > 2:
            raise RuntimeError(CPU_OOM)
        return torch.arange(start, stop)

    assert batch.run(7, fn).tolist() == list(range(7)) and batch.size == 2


def test_mask_images_one_at_a_time_matches_the_formula():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    masks = torch.from_numpy(rng.random((5, 20, 24)).astype(np.float32))
    base = baseline_image("blur", image)
    m = masks[..., None]
    expected = (m * torch.from_numpy(image.astype(np.float32)) + (1 - m) * torch.from_numpy(base))
    expected = expected.round_().clamp_(0, 255).to(torch.uint8).numpy()
    np.testing.assert_array_equal(mask_images(image, masks, base), expected)


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_n():
    """Subprocesses (a failure cannot take the run down): N = 64 and N = 256 at 1024² peak alike."""
    from xattr_lab.bench.memory import measure

    small, large = measure(1024, 64, None, timeout=600), measure(1024, 256, None, timeout=600)
    assert "error" not in small and "error" not in large, (small, large)
    assert large["n_forward"] == 256 and large["n_calls"] > 1
    # Before the bound, N = 256 added ~2 GB over N = 64 (all masks of a request at full resolution).
    assert abs(large["peak_rss_mb"] - small["peak_rss_mb"]) < 64
    assert large["scoring_added_mb"] < 256
