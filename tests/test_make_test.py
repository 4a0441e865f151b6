"""``make test`` (the README's test command, and CI's) runs the suite as tests/conftest.py plans it."""

import shlex

from conftest import SLOW_FILES_FIRST

from utils.guards import settings


def pytest_options_of_make_test() -> list[str]:
    recipe = (settings.REPO_ROOT / "Makefile").read_text().split("\ntest:", 1)[1]
    command = next(line for line in recipe.splitlines() if " -m pytest " in line)
    return shlex.split(command.split(" -m pytest ", 1)[1])


def test_the_slowest_files_start_first_on_two_workers():
    """pytest-xdist's ``--dist loadfile`` starts the files with the most tests first unless told not to: that sent
    conftest's slowest files (one or two tests each: the browser, torchrun) to the end of the run, where they ran
    side by side on a 2-core machine while everything else had finished."""
    options = pytest_options_of_make_test()
    assert options[options.index("--dist") + 1] == "loadfile"
    assert "--no-loadscope-reorder" in options
    assert {"test_drawing_pad_browser.py", "test_distributed.py"} <= set(SLOW_FILES_FIRST)
