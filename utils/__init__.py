"""Shared helpers of the course, one module per topic: config, data, models, training, evaluation,
plots, checkpoints. The command-line tools are ``python -m utils.data``, ``utils.train`` and
``utils.predict``."""
