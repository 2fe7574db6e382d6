"""``xattr-lab run CONFIG.toml``: exit codes, resume, changed config and --branch, user errors without traceback."""

from __future__ import annotations

import re
import textwrap

import pytest

import xattr_lab
from xattr_lab.cli import main

CONFIG = """
model = "toy-shapes"
methods = ["random", "eagle"]
output = "out"
regions = "grid:2"
search = "efficient"
seed = 3

[dataset]
name = "shapes"
n = 2

[params]
max_new_tokens = 4
"""


def _write(tmp_path, text, name="run.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_cli_runs_resumes_refuses_a_changed_config_and_branches(tmp_path, capsys):
    cfg = _write(tmp_path, CONFIG)
    assert main(["run", cfg, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "4/4 done, 0 failed, 0 missing" in out and str(tmp_path / "out") in out
    run = xattr_lab.load_run(tmp_path / "out")  # the output is relative to the config file's folder
    assert run.config["seed"] == 3 and run.config["params"]["max_new_tokens"] == 4
    assert main(["run", cfg, "--no-progress", "--verify", "quick"]) == 0  # resume: nothing left to do
    changed = _write(tmp_path, CONFIG.replace('regions = "grid:2"', 'regions = "grid:3"'))
    assert main(["run", changed, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "xattr-lab run: out_dir:" in err and "regions: 'grid:2' -> 'grid:3'" in err and "Traceback" not in err
    assert main(["run", changed, "--no-progress", "--branch"]) == 0
    captured = capsys.readouterr()
    assert "branched into" in captured.err
    branches = [p for p in tmp_path.iterdir() if p.name.startswith("out-")]
    assert len(branches) == 1 and xattr_lab.load_run(branches[0]).counts()["ok"] == 4


def test_cli_exit_1_when_units_failed(tmp_path, capsys):
    from PIL import Image

    im = next(xattr_lab.datasets.shapes(1, 0)).image
    Image.fromarray(im).save(tmp_path / "a.png")
    Image.fromarray(im[:10, :10, 0]).save(tmp_path / "small_mask.png")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "prompts.jsonl").write_text(
        '{"image": "../a.png", "prompt": "what colour is the circle ?"}\n'
        '{"image": "../a.png", "prompt": "what shape is the red object ?", "mask": "../small_mask.png"}\n'
    )
    cfg = _write(tmp_path, 'model = "toy-shapes"\nmethods = ["random"]\noutput = "o"\nregions = "grid:2"\n'
                           'dataset = "data"\n[params]\nmax_new_tokens = 4\n')  # fmt: skip
    assert main(["run", cfg, "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "1/2 done, 1 failed" in captured.out and "failed 1/random: ValueError: mask" in captured.err


@pytest.mark.parametrize(
    ("text", "args", "match"),
    [
        ("model = [", [], "is not valid TOML"),
        ('model = "toy-shapes"\nmethods = ["random"]\noutput = "o"\n', [], "needs 'dataset'"),
        ("workers = 3\n" + CONFIG, [], r"unknown keys \['workers'\]"),
        (CONFIG + "\nworkers = 3\n", [], r"params: 'workers' is not a parameter of method 'random'"),
        (CONFIG.replace('["random", "eagle"]', '["nope"]'), [], "nope"),
        (CONFIG, ["--address", "ray://x:1"], "--address / --num-workers: these are Ray options"),
        (CONFIG, ["--executor", "ray", "--num-workers", "0"], "--num-workers: expected a positive count"),
        (CONFIG, ["--executor", "spark"], "invalid choice"),
        (CONFIG.replace('output = "out"', 'output = ""'), [], "output must be a path"),
    ],
)
def test_cli_user_errors_exit_2_with_one_line(tmp_path, capsys, text, args, match):
    cfg = _write(tmp_path, text)
    assert main(["run", cfg, "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xattr-lab run: ") and "Traceback" not in err
    assert re.search(match, err), err


def test_cli_missing_config_file(tmp_path, capsys):
    assert main(["run", str(tmp_path / "none.toml")]) == 2
    assert "is not a file" in capsys.readouterr().err
