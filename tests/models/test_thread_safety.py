"""One model, several threads: white-box entry points give the sequential results (issue 14, item 8).

The white-box hook sits on the shared decoder module, so before the fix a forward of one thread could pass
through the hook of another and read the other thread's features (wrong values, no error) or race the hook's
(un)registration (a TypeError inside torch).
"""

import threading

import pytest
import torch

from xattr_lab.datasets import shapes

N_CALLS = 50  # per thread


@pytest.fixture(scope="module")
def case(toy):
    s = next(iter(shapes(1, seed=3, task="colour")))
    gen = toy.generate(s.image, s.prompt, max_new_tokens=4)
    return toy, gen


def perturbed(features, n, seed=0):
    """``n`` distinct feature tensors around ``features`` (every call scores something different)."""
    g = torch.Generator().manual_seed(seed)
    return [features * (1 + 2 * torch.rand(features.shape, generator=g)) - 0.5 for _ in range(n)]


def run_threads(jobs, n_threads=2):
    """Run ``jobs`` (callables) spread over ``n_threads`` threads; results (or raised errors) in job order."""
    out = [None] * len(jobs)
    start = threading.Barrier(n_threads)

    def work(k):
        start.wait()  # start together, so the calls really interleave
        for i in range(k, len(jobs), n_threads):
            try:
                out[i] = jobs[i]()
            except Exception as err:  # noqa: BLE001 - a race shows up as an error in torch; report it
                out[i] = err
    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def assert_same(sequential, threaded):
    errors = [r for r in threaded if isinstance(r, Exception)]
    assert not errors, f"{len(errors)} calls raised, first: {errors[0]!r}"
    wrong = [i for i, (a, b) in enumerate(zip(sequential, threaded)) if not torch.allclose(a, b, atol=1e-6)]
    assert not wrong, f"{len(wrong)} of {len(sequential)} threaded calls differ from sequential: {wrong[:10]}"


def hook_count(module):
    return sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in module.modules())


def test_score_features_two_threads_match_sequential(case):
    model, gen = case
    feats = perturbed(model.image_features(gen), 2 * N_CALLS)
    hooks = hook_count(model.model)
    with torch.no_grad():
        sequential = [model.score_features(gen, f) for f in feats]
    with torch.no_grad():
        threaded = run_threads([lambda f=f: model.score_features(gen, f) for f in feats])
    assert_same(sequential, threaded)
    assert hook_count(model.model) == hooks  # every hook removed


def test_mixed_white_box_and_black_box_calls_match_sequential(case):
    """score_features beside image_features, hidden states, pixel_forward and score: no call sees a foreign hook."""
    model, gen = case
    feats = perturbed(model.image_features(gen), 12, seed=1)
    pixels = model.processed_pixels(gen)
    h, w = gen.image.shape[:2]
    masks = torch.ones(3, h, w)
    masks[1, : h // 2] = 0
    masks[2, :, : w // 3] = 0
    jobs = []
    for i, f in enumerate(feats):
        jobs.append(lambda f=f: model.score_features(gen, f))
        jobs.append(
            [
                lambda: model.image_features(gen),
                lambda: model.image_hidden_states(gen),
                lambda: model.pixel_forward(gen, pixels * 0.5),
                lambda i=i: model.score(gen, masks, pixel_space=bool(i % 2)),
                lambda: model.logit_lens(gen),
            ][i % 5]
        )
    with torch.no_grad():
        sequential = [job() for job in jobs]
        threaded = run_threads(jobs)
    assert_same(sequential, threaded)


def test_gradients_through_score_features_in_threads(case):
    """Integrated-gradients-style use: each thread differentiates its own features."""
    model, gen = case
    feats = perturbed(model.image_features(gen), 8, seed=2)

    def grad(f):
        f = f.clone().requires_grad_(True)
        model.score_features(gen, f)[0].log().sum().backward()
        return f.grad

    sequential = [grad(f) for f in feats]
    threaded = run_threads([lambda f=f: grad(f) for f in feats])
    assert_same(sequential, threaded)


def test_hook_ignores_forwards_of_other_threads(case):
    """Even a forward that bypasses the adapter (user code on ``model.model``) is not altered by the hook."""
    model, gen = case
    prep, inputs = model._full_inputs(gen)
    with torch.no_grad():
        expected = model.model(**inputs, use_cache=False).logits
    result = {}

    def other_thread():
        with torch.no_grad():
            result["logits"] = model.model(**inputs, use_cache=False).logits

    zeros = torch.zeros_like(model.image_features(gen))
    with model._capture_embeds(replace=zeros) as store:
        store["image_positions"] = (inputs["input_ids"][0] == model.image_token_id).nonzero().flatten()
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    torch.testing.assert_close(result["logits"], expected)


def test_lock_is_reentrant_and_public(case):
    model, gen = case
    with model.lock:  # the adapter's own calls take the same lock again
        probs = model.score_features(gen, model.image_features(gen))
    assert probs.shape == (1, gen.n_generated)


def test_forward_count_is_exact_under_threads(case):
    model, gen = case
    feats = perturbed(model.image_features(gen), 20, seed=3)
    before = model.n_forward
    with torch.no_grad():
        out = run_threads([lambda f=f: model.score_features(gen, f) for f in feats])
    assert not any(isinstance(r, Exception) for r in out)
    assert model.n_forward - before == 20


def test_tiny_qwen2_vl_threads_match_sequential(tiny_models, rgb_image):
    """Qwen2-VL keeps per-forward state on the module (rope_deltas) and uses multimodal rotary positions."""
    model = tiny_models("qwen2_vl")
    gen = model.with_target(model.generate(rgb_image, "what is in the image ?", max_new_tokens=2), "a red circle")
    feats = perturbed(model.image_features(gen), 16, seed=4)
    with torch.no_grad():
        sequential = [model.score_features(gen, f) for f in feats]
        threaded = run_threads([lambda f=f: model.score_features(gen, f) for f in feats])
    assert_same(sequential, threaded)


def test_layer_gradcam_beside_forwards_of_another_thread(case):
    """Captum's LayerGradCam hooks the shared vision conv; it holds the model's lock while the hook is on.

    Without the lock, another thread's forward passed through Captum's hook and replaced the saved layer
    output (9 of 10 runs raised "differentiated Tensor ... not used in the graph").
    """
    import numpy as np

    import xattr_lab

    model, gen = case

    def cam():
        e = xattr_lab.explain(model, gen.image, gen.prompt, method="layer_gradcam", regions="grid:2",
                              generation=gen, progress=False)  # fmt: skip
        return e.pixel_map

    expected = cam()
    pixels = model.processed_pixels(gen)
    done = threading.Event()

    def hammer():
        i = 0
        while not done.is_set():
            with torch.no_grad():
                model.pixel_forward(gen, pixels * (0.5 + (i % 7) / 10))
            i += 1

    other = threading.Thread(target=hammer)
    other.start()
    try:
        maps = run_threads([cam] * 4, n_threads=1)
    finally:
        done.set()
        other.join()
    errors = [m for m in maps if isinstance(m, Exception)]
    assert not errors, repr(errors[0])
    for m in maps:
        np.testing.assert_allclose(m, expected, atol=1e-5)


def test_generate_targets_and_text_variants_in_threads(tiny_models, rgb_image):
    """Tokenizer and processor calls (padded variants) beside generation in another thread.

    A guard for the locked tokenizer/processor paths: this one also passed before the lock (the word-level
    tokenizer of the tiny models does not show the fast tokenizers' "Already borrowed" race).
    """
    model = tiny_models("llava")
    prompts = ["what is in the image ?", "describe the image .", "how many shapes ?", "what colour is it ?"]
    base = model.with_target(model.generate(rgb_image, prompts[0], max_new_tokens=2), "a red circle")
    variants = [["", "what is in the image ?"], ["describe a red circle on the left .", "how many"]]
    jobs = []
    for i in range(8):
        jobs.append(lambda i=i: model.generate(rgb_image, prompts[i % 4], max_new_tokens=2).generated_ids)
        jobs.append(lambda i=i: model.score_text(base, variants[i % 2]))
        jobs.append(lambda i=i: model.with_target(base, ["red circle", "blue square on the left"][i % 2]).generated_ids)
    sequential = [job() for job in jobs]
    threaded = run_threads(jobs, n_threads=3)
    assert_same(sequential, threaded)
