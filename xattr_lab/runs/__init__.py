"""Dataset runs: explain every sample of a dataset with several methods, resumably, on one machine or Ray.

``xattr_lab.run(model, dataset, methods, out_dir)`` writes one atomic Explanation per sample x method, one
Parquet results table and a manifest; ``xattr_lab.load_run(out_dir)`` reads it back (leaderboard, drill
down). Executors: ``local`` (embedded, the default) and ``ray`` (optional extra). See DESIGN §7b.
"""
