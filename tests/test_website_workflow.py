"""The workflow that publishes the website on GitHub Pages builds it as `make site` does and publishes that folder.
GitHub runs it, not CI; these checks catch the two drifting apart (a renamed build folder would publish nothing)."""

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from utils.guards import settings

yaml = pytest.importorskip("yaml", reason="comes with MkDocs: pip install -r requirements-site.txt")

from utils.machinery import site  # noqa: E402

WORKFLOW = settings.REPO_ROOT / ".github" / "workflows" / "website.yml"


def steps():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_the_website_workflow_builds_the_site_as_make_site_does_and_publishes_that_folder():
    workflow_steps = steps()
    commands = [step["run"] for step in workflow_steps if "run" in step]
    assert f"python -m {site.__name__}" in commands
    makefile = (settings.REPO_ROOT / "Makefile").read_text()
    assert f"$(BIN)/python -m {site.__name__}" in makefile, "make site and the workflow build the site differently"
    uploads = [step["with"]["path"] for step in workflow_steps
               if step.get("uses", "").startswith("actions/upload-pages")]
    assert [Path(path) for path in uploads] == [site.SITE.relative_to(settings.REPO_ROOT)]


def test_the_website_workflow_installs_the_sites_tools_pinned_and_every_file_it_names_exists():
    installs = [shlex.split(step["run"]) for step in steps() if step.get("run", "").startswith("pip install")]
    assert installs, "no pip install step"
    for words in installs:
        named = [words[i + 1] for i, word in enumerate(words) if word in ("-c", "-r")]
        assert "constraints.txt" in named and "requirements-site.txt" in named, words
        missing = [name for name in named if not (settings.REPO_ROOT / name).is_file()]
        assert not missing, f"the workflow installs from files that do not exist: {missing}"


def test_the_site_builds_without_torch_or_numpy_as_the_workflow_installs_neither():
    """The workflow installs only the site's tools: `make site` on a machine with the course's packages would not
    notice the site's code starting to import torch or numpy, GitHub would."""
    blocked = "import sys\nfor name in ('torch', 'numpy', 'torchvision', 'matplotlib'):\n    sys.modules[name] = None\n"
    done = subprocess.run([sys.executable, "-c", blocked + f"import {site.__name__}"], cwd=settings.REPO_ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1500:]
