"""The course's shared helpers.

The modules a learner reads, each what one notebook teaches:

- ``datasets``: what the course knows about each dataset, one record per dataset (notebook 01);
- ``data``: loading a dataset, the whole split as tensors, the validation split, batches, augmentation (01);
- ``models``: the MLP and the CNNs (02, 03);
- ``training``: one epoch by hand, ``History``, ``Recipe``, ``fit`` (02, 03);
- ``evaluation``: running a model over a split, accuracy, confusion, per-class metrics (04);
- ``recipes``: how the course trains each model on each dataset (03);
- ``checkpoints``: saving and loading a trained model safely (05);
- ``predict``: your own images, prepared the way MNIST was made (05);
- ``hardware``: the device and the precision it trains in (06);
- ``plots``: the figures.

The guards in ``utils.guards`` read the ``COURSE_*`` settings strictly and refuse bad input with one line before it
does harm (a mistyped setting, a write over a device, a file that is not a course checkpoint, an image PIL cannot
open): the lessons call them in one named step each, and learners need not read them. The machinery, which keeps the
course working and honest and which learners are never sent to, is in ``utils.machinery``: the workflow that trains,
tests once and saves (``workflow``), where the files come from, the benchmarks' results files and the tables of
docs/results.md, the notebook runner, the command lines. The commands are ``python -m utils.data``,
``python -m utils.train`` and ``python -m utils.predict``.
"""
