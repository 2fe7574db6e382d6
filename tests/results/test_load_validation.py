"""Loading validates before it trusts (issue 14, item 3): sizes before reading, semantics after the checksum."""

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

import xattr_lab
from xattr_lab.results._store import MAX_POINTER_BYTES, ResultFileError
from xattr_lab.results.comparison import Comparison
from xattr_lab.results.spectrum import STAT_NAMES, SpectrumReport
from xattr_lab.results.training import TrainingRun


@pytest.fixture(scope="module")
def expl():
    from xattr_lab.attr.synthetic import SyntheticModel

    model = SyntheticModel(size=32, boxes=((2, 2, 12, 12), (18, 4, 30, 14), (6, 18, 16, 30)))
    return xattr_lab.explain(model, model.image, "describe it", regions="grid:4", search="efficient", progress=False)


def _doc(p):
    return json.loads((Path(p) / "result.json").read_text())


def _tamper(p, arrays=None, meta=None, doc=None):
    """Edit a saved result and recompute its checksum, as anyone can: only semantic checks can catch it."""
    p = Path(p)
    d = _doc(p)
    af = p / d["arrays_file"]
    arrs = dict(st_load(af.read_bytes()))
    if arrays:
        arrays(arrs)
    data = st_save(arrs)
    m = json.loads(d["meta"])
    if meta:
        meta(m)
    text = json.dumps(m, sort_keys=True)
    af.write_bytes(data)
    d.update(meta=text, n_array_bytes=len(data), sha256=hashlib.sha256(text.encode() + data).hexdigest())
    if doc:
        doc(d)
    (p / "result.json").write_text(json.dumps(d))


def _peak_rss_mb_of_load(path):
    code = textwrap.dedent(
        f"""
        import resource, xattr_lab
        from xattr_lab.results._store import ResultFileError
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            xattr_lab.load({str(path)!r})
        except ResultFileError as err:
            print("ERR", err)
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    lines = out.strip().splitlines()
    return float(lines[-1]), "\n".join(lines[:-1])


# -- sizes before reading --------------------------------------------------------------------------------
def test_oversized_arrays_file_is_refused_without_reading_it(expl, tmp_path):
    p = expl.save(tmp_path / "e")
    os.truncate(p / _doc(p)["arrays_file"], 3 * 2**30)  # sparse: 3 GB on paper, nothing on disk
    grew, message = _peak_rss_mb_of_load(p)
    assert "declares" in message and "3221225472 bytes" in message
    assert grew < 100  # before the fix the whole 3 GB was read (RSS +3 GB)


def test_oversized_result_json_is_refused_without_reading_it(expl, tmp_path):
    p = expl.save(tmp_path / "e")
    os.truncate(p / "result.json", 2 * 2**30)
    grew, message = _peak_rss_mb_of_load(p)
    assert f"at most {MAX_POINTER_BYTES}" in message
    assert grew < 100


def test_truncated_arrays_file_is_refused(expl, tmp_path):
    p = expl.save(tmp_path / "e")
    af = p / _doc(p)["arrays_file"]
    af.write_bytes(af.read_bytes()[:-1])
    with pytest.raises(ResultFileError, match="declares"):
        xattr_lab.load(p)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(expl, tmp_path):
    p = expl.save(tmp_path / "e")
    os.unlink(p / "result.json")
    os.mkfifo(p / "result.json")
    with pytest.raises(ResultFileError, match="not a regular file"):
        xattr_lab.load(p)


# -- the pointer's fields --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d.update(kind=["Explanation"]), "'kind' entry"),
        (lambda d: d.pop("kind"), "'kind' entry"),
        (lambda d: d.update(kind=""), "empty kind"),
        (lambda d: d.update(meta={"method": "eagle"}), "'meta' entry"),
        (lambda d: d.update(meta="[1, 2]"), "sha256|checksum"),
        (lambda d: d.update(version=3), "schema version 3"),
        (lambda d: d.update(version="2"), "schema version '2'"),
        (lambda d: d.update(version=True), "schema version True"),
        (lambda d: d.update(n_array_bytes=True), "n_array_bytes"),
        (lambda d: d.update(n_array_bytes=-1), "n_array_bytes"),
        (lambda d: d.update(arrays_file="../../etc/passwd"), "invalid arrays file"),
        (lambda d: d.update(arrays_file="arrays-x.safetensors"), "invalid arrays file"),
        (lambda d: d.update(sha256=5), "'sha256' entry"),
        (lambda d: d.update(schema="other"), "not an xattr_lab result"),
    ],
)
def test_malformed_pointer_fields_give_result_file_error(expl, tmp_path, edit, match):
    p = expl.save(tmp_path / "e")
    d = _doc(p)
    edit(d)
    (p / "result.json").write_text(json.dumps(d))
    with pytest.raises(ResultFileError, match=match):
        xattr_lab.load(p)


@pytest.mark.parametrize(
    ("text", "match"),
    [("{not json", "not valid JSON"), ("[" * 100_000, "not valid JSON"), ("[1, 2]", "not an xattr_lab result")],
)
def test_invalid_json_gives_result_file_error(expl, tmp_path, text, match):
    p = expl.save(tmp_path / "e")
    (p / "result.json").write_text(text)
    with pytest.raises(ResultFileError, match=match):
        xattr_lab.load(p)


def test_non_utf8_pointer_gives_result_file_error(expl, tmp_path):
    p = expl.save(tmp_path / "e")
    (p / "result.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(ResultFileError, match="UTF-8"):
        xattr_lab.load(p)


@pytest.mark.parametrize(
    ("meta_text", "match"), [("{\"a\": ", "not valid JSON"), ("[1]", "not a JSON object"), ("\"x\"", "JSON object")]
)
def test_meta_that_is_not_a_json_object_gives_result_file_error(expl, tmp_path, meta_text, match):
    p = expl.save(tmp_path / "e")
    d = _doc(p)
    data = (p / d["arrays_file"]).read_bytes()
    d.update(meta=meta_text, sha256=hashlib.sha256(meta_text.encode() + data).hexdigest())
    (p / "result.json").write_text(json.dumps(d))
    with pytest.raises(ResultFileError, match=match):
        xattr_lab.load(p)


def test_garbage_arrays_with_a_recomputed_checksum(expl, tmp_path):
    p = expl.save(tmp_path / "e")
    d = _doc(p)
    junk = b"\x08\x00\x00\x00\x00\x00\x00\x00{bad}xyz"
    (p / d["arrays_file"]).write_bytes(junk)
    d.update(n_array_bytes=len(junk), sha256=hashlib.sha256(d["meta"].encode() + junk).hexdigest())
    (p / "result.json").write_text(json.dumps(d))
    with pytest.raises(ResultFileError, match="safetensors"):
        xattr_lab.load(p)


# -- semantics after the checksum ------------------------------------------------------------------------
def _set(name, value_fn):
    return lambda a: a.__setitem__(name, value_fn(a[name]))


def _gap(labels):
    out = labels.copy()
    out[out == out.max()] = out.max() + 3
    return out


@pytest.mark.parametrize(
    ("arrays", "meta", "match"),
    [
        (_set("labels", lambda x: x[:-1].copy()), None, "'labels' has shape"),
        (_set("labels", _gap), None, "unused values"),
        (_set("labels", lambda x: x - 1), None, ">= 0"),
        (_set("labels", lambda x: x.astype(np.float32)), None, "'labels' has dtype"),
        (_set("order", lambda x: np.zeros_like(x)), None, "not a permutation"),
        (_set("order", lambda x: x[:-1].copy()), None, "not a permutation"),
        (_set("insertion", lambda x: x[:, :-1].copy()), None, "'insertion' has shape"),
        (_set("deletion", lambda x: np.vstack([x, x])), None, "'deletion' has shape"),
        (_set("region_scores", lambda x: x[:-1].copy()), None, "'region_scores' has shape"),
        (_set("pixel_map", lambda x: x.T[:, :-1].copy()), None, "'pixel_map' has shape"),
        (lambda a: a.pop("reliance"), None, "'reliance' is missing"),
        (None, lambda m: m.update(positions=[999]), "outside the"),
        (None, lambda m: m.update(positions=[-1]), "outside the"),
        (None, lambda m: m.update(positions=["0"]), "list of integers"),
        (None, lambda m: m.update(partial="no"), "'partial'"),
        (None, lambda m: m.update(method=3), "'method'"),
        (None, lambda m: m["generation"].update(generated_tokens=[1, 2]), "list of strings"),
        (None, lambda m: m.pop("generation"), "'generation' is missing"),
    ],
)
def test_explanation_semantics_are_checked_after_the_checksum(expl, tmp_path, arrays, meta, match):
    p = expl.save(tmp_path / "e")
    _tamper(p, arrays=arrays, meta=meta)
    with pytest.raises(ResultFileError, match=match):
        xattr_lab.load(p)


def test_comparison_names_the_bad_explanation(expl, tmp_path):
    cmp = Comparison((expl, expl), ({"method": "a"}, {"method": "b"}), {})
    p = cmp.save(tmp_path / "c")
    assert len(xattr_lab.load(p).explanations) == 2
    _tamper(p, arrays=_set("1/order", lambda x: np.zeros_like(x)))
    with pytest.raises(ResultFileError, match="explanation 1: the array 'order'"):
        xattr_lab.load(p)
    p2 = cmp.save(tmp_path / "c2")
    _tamper(p2, meta=lambda m: m.update(rows=[{"no": "method"}]))
    with pytest.raises(ResultFileError, match="'rows'"):
        xattr_lab.load(p2)


def _report(layers=2, heads=2, t=5):
    rng = np.random.default_rng(0)
    return SpectrumReport(
        scheme="rope",
        stats={k: rng.random((layers, heads)) for k in STAT_NAMES},
        mean_logits=rng.random((layers, heads, t, t)).astype(np.float32),
        eig_sym=rng.random((layers, heads, t)),
        eig=rng.random((layers, heads, t)) + 1j * rng.random((layers, heads, t)),
        singular_values=rng.random((layers, heads, t)),
        toeplitz_profile=rng.random((layers, heads, 2 * t - 1)),
        info={"T": t},
    )


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        (_set("stat.spread", lambda x: x[:1].copy()), "'stat.spread' has shape"),
        (_set("mean_logits", lambda x: x[..., :-1].copy()), "'mean_logits' has shape"),
        (_set("toeplitz_profile", lambda x: x[..., :-1].copy()), "'toeplitz_profile' has shape"),
        (lambda a: a.pop("stat.condition"), "'stat.condition' is missing"),
        (_set("eig_sym", lambda x: x[0].copy()), "'eig_sym' has 2 dimensions"),
    ],
)
def test_spectrum_report_shapes_are_checked(tmp_path, arrays, match):
    p = _report().save(tmp_path / "s")
    assert xattr_lab.load(p).seq_len == 5
    _tamper(p, arrays=arrays)
    with pytest.raises(ResultFileError, match=match):
        xattr_lab.load(p)


@pytest.mark.parametrize(
    ("arrays", "meta", "match"),
    [
        (_set("series.loss", lambda x: x[:-1].copy()), None, "'series.loss' has shape"),
        (_set("steps", lambda x: x.astype(np.float64)), None, "'steps' has dtype"),
        (None, lambda m: m.update(events={"x": True}), "'events'"),
        (None, lambda m: m.update(labels={"loss": 3}), "'labels'"),
        (None, lambda m: m.pop("config"), "'config' is missing"),
    ],
)
def test_training_run_is_checked(tmp_path, arrays, meta, match):
    run = TrainingRun.from_history([{"step": 0, "loss": 1.0}, {"step": 5, "loss": 0.5}], events={"x": 5})
    p = run.save(tmp_path / "t")
    assert len(xattr_lab.load(p)) == 2
    _tamper(p, arrays=arrays, meta=meta)
    with pytest.raises(ResultFileError, match=match):
        xattr_lab.load(p)


def test_wrong_kind_through_a_class_is_a_result_file_error(tmp_path):
    p = _report().save(tmp_path / "s")
    with pytest.raises(ResultFileError, match="expected a 'TrainingRun'"):
        TrainingRun.load(p)
