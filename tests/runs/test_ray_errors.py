"""The Ray executor's refusals, before any cluster starts: fast, no Ray processes."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from xattr_lab.runs.ray_executor import RayExecutor, init_ray  # noqa: E402
from xattr_lab.runs.work import SampleSpec, WorkUnit  # noqa: E402


def _unit(tmp_path: Path) -> WorkUnit:
    sample = SampleSpec(sample_id="0", prompt="what colour is the circle ?", image=str(tmp_path / "x.png"))
    return WorkUnit(key="0/random", sample_id="0", method="random", sample=sample, params={},
                    result_dir=str(tmp_path / "0" / "random"))  # fmt: skip


def test_a_model_object_is_refused_with_a_clear_message(tmp_path):
    class Model:
        def score(self):  # pragma: no cover - never called
            raise AssertionError

    with pytest.raises(TypeError, match="model spec"):
        RayExecutor().map([_unit(tmp_path)], Model(), print)
    assert not ray.is_initialized()


@pytest.mark.parametrize(
    ("options", "name"),
    [({"num_workers": 0}, "num_workers"), ({"max_retries": -1}, "max_retries"), ({"num_cpus": -1}, "num_cpus"),
     ({"num_cpus": 0, "num_gpus": 0}, "num_cpus, num_gpus"), ({"address": 6379}, "address")],
)  # fmt: skip
def test_bad_options_name_the_argument(options, name):
    with pytest.raises((ValueError, TypeError), match=name):
        RayExecutor(**options)


def test_duplicate_keys_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        RayExecutor().map([_unit(tmp_path)] * 2, "toy-shapes", print)


def test_an_address_nobody_listens_at_fails_fast_with_what_to_do():
    with socket.socket() as s:  # a free port, closed again: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionError, match="ray start --head"):
        init_ray(f"127.0.0.1:{port}")
    assert not ray.is_initialized()
