"""Shared helpers of the course, one module per topic: config, data, models, training, evaluation,
plots, checkpoints, predict; data_sources holds where the dataset files come from and how they are checked.
The command-line tools are ``python -m utils.data``, ``utils.train`` and ``utils.predict``."""
