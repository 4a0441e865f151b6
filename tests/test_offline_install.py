"""The README's wheelhouse for a classroom without wifi installs the course with pip's network switched off.

An instructor builds the wheelhouse on a machine with internet and installs from it on every learner's machine with
``--no-index``. The README once said ``pip download -d wheels -r requirements.txt``: it left out setuptools, which
installing the course's own package (``-e .``) needs, so the offline install stopped at "No matching distribution
found for setuptools>=64"; and it packed the whole folder, ``.venv`` included (3.4 GB here), into one archive.

The README's two commands run here on a small stand-in for the course (the first, like the instructor's, needs a
package index: PyPI or a mirror; without one the test is skipped): its real ``utils`` package and
``pyproject.toml``, one light requirement instead of PyTorch and the rest, and a ``.venv`` that must not travel.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import venv

import pytest

from utils.guards import settings

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the stand-in's venv layout is the POSIX one")


def readme_classroom_commands() -> tuple[str, str]:
    """The bullet "A classroom with bad wifi": its first command builds the wheelhouse, its second installs."""
    readme = (settings.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    bullet = re.search(r"\*\*A classroom with bad wifi\*\*(.*?)(?:\n\n|\n- )", readme, re.S)
    assert bullet, "the README's set-up lost its bullet for a classroom with bad wifi"
    commands = [command for command in re.findall(r"`(pip [^`]+)`", bullet[1])]
    assert len(commands) == 2 and "--no-index" in commands[1], commands
    return commands[0], commands[1]


def run_pip(python: str, command: str, folder, env=None) -> subprocess.CompletedProcess:
    words = shlex.split(command)
    assert words[0] == "pip", command
    return subprocess.run([python, "-m", "pip", *words[1:]], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_readmes_wheelhouse_installs_the_course_with_the_network_off(tmp_path):
    build, install = readme_classroom_commands()
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(settings.REPO_ROOT / "pyproject.toml", course)
    shutil.copytree(settings.REPO_ROOT / "utils", course / "utils", ignore=shutil.ignore_patterns("__pycache__"))
    (course / "requirements.txt").write_text("tqdm\n-e .\n")  # the real file's shape: packages, then the course
    (course / ".venv").mkdir()
    (course / ".venv" / "torch_and_friends.bin").write_bytes(os.urandom(20_000_000))

    built = run_pip(sys.executable, build, course)  # reaches the package index as this machine's pip is set up
    no_index = re.search(r"No matching distribution|Could not find a version|connection", built.stderr, re.I)
    if built.returncode != 0 and no_index:
        pytest.skip("building the wheelhouse needs a package index (PyPI or a mirror), as the README's step does")
    assert built.returncode == 0, built.stderr[-2000:]
    wheelhouse = course / "wheels"
    size = sum(path.stat().st_size for path in wheelhouse.iterdir())
    assert size < 10_000_000, f"the wheelhouse holds {size:,} bytes: it packed the folder's .venv"

    learner = tmp_path / "learner-venv"
    venv.create(learner, with_pip=True)
    offline = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    offline["PIP_CONFIG_FILE"] = os.devnull  # no index, find-links or constraints from this machine's pip set-up
    installed = run_pip(str(learner / "bin" / "python"), install, course, env=offline)
    assert installed.returncode == 0, installed.stderr[-2000:]
    where = subprocess.run([str(learner / "bin" / "python"), "-c", "import tqdm, utils; print(utils.__file__)"],
                           cwd=tmp_path, env=offline, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr[-2000:]
    assert where.stdout.strip() == str(course / "utils" / "__init__.py"), "the course's package is not the editable one"
