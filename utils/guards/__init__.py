"""Guards: the checks that stop bad input before it does harm, each with one line that says what is wrong and how
to fix it (no traceback, nothing already good damaged).

- ``settings``: the ``COURSE_*`` settings (smoke mode, precision, the data and checkpoint folders), read strictly;
- ``text``: reading a setting strictly; names from outside shown so they cannot control the terminal;
- ``files``: writing a file whole or not at all, never over a device, pipe or socket;
- ``checkpoint_files``: whether a file is a checkpoint this course saved, before anything in it is trusted;
- ``image_files``: opening any image a learner gives (any format, size, bit depth or transparency).

The lessons call them in one named step each (``checkpoints.load_checkpoint`` asks ``read_checkpoint_file``);
learners need not read them to follow the course.
"""
