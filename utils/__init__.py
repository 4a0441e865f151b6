"""The course's shared helpers. The modules a learner reads, each with the notebook that teaches it:

- ``datasets``: what the course knows about each dataset, one record each (01); ``data``: loading a dataset, the
  whole split as tensors, the validation split, batches, augmentation (01);
- ``models``: the MLP and the CNNs (02, 03); ``training``: one epoch by hand, ``History``, ``Recipe``, ``fit`` (02);
- ``evaluation``: running a model over a split, accuracy, per-class results, comparing settings over seeds (03, 04);
- ``recipes``: how the course trains each model on each dataset (03);
- ``checkpoints``: saving and loading a trained model safely (05); ``predict``: your own images (05);
- ``hardware``: the device and the precision it trains in (06); ``plots``: the figures.

``utils.guards`` reads the ``COURSE_*`` settings strictly and refuses bad input with one line before it does harm;
the lessons call it in one named step each. ``utils.machinery`` keeps the course working and honest, and learners
are never sent there: the workflow that trains, tests once and saves, where the files come from, the benchmarks'
results files, the notebook runner, the commands ``python -m utils.data``, ``utils.train`` and ``utils.predict``.
"""
