"""Model adapters behind one protocol (``protocol.ScoringModel``).

* ``loading.load_model`` — the entry point (``"toy-shapes"``, a directory, a cached hub id, a pair);
* ``hf.HFScoringModel`` — any transformers image-text-to-text model (LLaVA, Qwen2-VL, Idefics3, ...), built
  from ``hf_inputs`` / ``hf_generation`` / ``hf_scoring`` / ``hf_whitebox``; thread-safe under one lock per model;
* ``checks`` — boundary checks (batch size, text, generation, device, dtype);
* ``classifier.ClassifierScoringModel`` — image classifiers, classes as tokens;
* ``masking`` / ``batching`` / ``images`` — masks and baselines, automatic batch size, input checks;
* ``toy`` — the built-in ShapesVLM (build, train, evaluate).

Nothing here is imported by ``import xattr_lab``; submodules load torch and transformers on use.
"""
