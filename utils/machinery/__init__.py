"""The course's machinery: what keeps it working and honest, not what it teaches. Learners are never sent here.

- ``sources``: where the dataset files come from (data folder, system copy, download, the MNIST sample), their
  checksums and repair, and the ``python -m utils.data fetch | info`` command;
- ``workflow``: train with the course recipe, measure the test set once and save a checkpoint (``train_model``), or
  load the one notebook 03 saved (``load_or_train``, notebooks 04 and 05);
- ``train_command``: ``python -m utils.train``;
- ``signals``: SIGTERM and SIGHUP stop a command the way Ctrl-C does;
- ``results``: the benchmarks' results files and the tables of docs/results.md
  (``python -m utils.machinery.results``);
- ``notebook_runner``: executes the notebooks headless (``make run``, ``make notebooks``).

The modules at the top of ``utils/`` import nothing from here, except ``utils.data``'s one call to locate files (and
its ``python -m utils.data`` entry); ``utils/train.py`` is only the entry point of ``python -m utils.train``.
"""
