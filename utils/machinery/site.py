"""The course website: stage the README, docs/ and the committed notebooks into ``build/site-src/`` with the
repository's own layout (so every relative link keeps working), then let MkDocs render ``build/site/`` from it
without executing any notebook.

    python -m utils.machinery.site     # what `make site` runs
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

from utils.guards import settings
from utils.machinery import colab

SOURCE = settings.REPO_ROOT / "build" / "site-src"
SITE = settings.REPO_ROOT / "build" / "site"


# a relative link to a page in a notebook's markdown: MkDocs rewrites such links in .md pages, not in notebooks
NOTEBOOK_LINK = re.compile(r"\]\((?![a-z]+://)([^)#\s]+)\.(?:md|ipynb)(#[^)\s]*)?\)")


def plain_headings(markdown: str) -> str:
    """Headings without inline-code backticks: mkdocs-jupyter's table of contents drops code from a heading and links
    the rest to an anchor the page does not have ("Step 4 · `channels_last`" became "Step 4 ·" -> #step-4)."""
    lines, in_fence = [], False
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and re.match(r"#{1,6} ", line):
            line = line.replace("`", "")
        lines.append(line)
    return "\n".join(lines)


PREFORMATTED = re.compile(r"(<pre\b.*?</pre>)", re.S)
INLINE_CODE = re.compile(r"(<code\b[^>]*>)(.*?)(</code>)", re.S)
OPTION = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")  # --seeds, -r, -m: not a minus sign before a number


def options_on_one_line(html: str) -> str:
    """A command in a sentence (``--seeds 0 1 2``) may wrap between its words but not inside an option: the
    browser took "-" / "-seeds" and "-" / "r requirements.txt" as places to break, and a reader typing what they
    saw would type "- -seeds" or "- r". Each option in inline code goes in a span the stylesheet keeps whole;
    copying the command is unchanged. Code blocks are left alone (they do not wrap)."""
    def mark(code: re.Match) -> str:
        return code[1] + OPTION.sub(lambda option: f'<span class="option">{option[0]}</span>', code[2]) + code[3]

    return "".join(part if part.startswith("<pre") else INLINE_CODE.sub(mark, part)
                   for part in PREFORMATTED.split(html))


def on_post_page(output: str, **_) -> str:
    """MkDocs' hook (mkdocs.yml ``hooks:``), run on every finished page, the notebooks' included."""
    return options_on_one_line(output)


def stage() -> None:
    """README.md becomes the home page; docs/ and notebooks/ (with solutions/ and images/) keep their places."""
    shutil.rmtree(SOURCE, ignore_errors=True)
    (SOURCE / "docs").mkdir(parents=True)
    shutil.copy(settings.REPO_ROOT / "README.md", SOURCE / "index.md")
    shutil.copytree(settings.REPO_ROOT / "docs" / "site", SOURCE / "docs" / "site")  # the site's stylesheet
    for page in (settings.REPO_ROOT / "docs").glob("*.md"):
        (SOURCE / "docs" / page.name).write_text(page.read_text().replace("../README.md", "../index.md"))
    skip = shutil.ignore_patterns(".ipynb_checkpoints", "*.py")
    shutil.copytree(settings.REPO_ROOT / "notebooks", SOURCE / "notebooks", ignore=skip)
    for path in (SOURCE / "notebooks").rglob("*.ipynb"):
        notebook = json.loads(path.read_text())
        # the Colab set-up cell does nothing on the web: the page shows the lesson (and the badge, once it is set)
        notebook["cells"] = [cell for cell in notebook["cells"] if cell.get("id") != colab.CELL_ID]
        for cell in notebook["cells"]:
            if cell["cell_type"] == "markdown":
                text = NOTEBOOK_LINK.sub(lambda match: f"]({match[1]}.html{match[2] or ''})", "".join(cell["source"]))
                cell["source"] = plain_headings(text.replace("](../README.html", "](../index.html"))
        path.write_text(json.dumps(notebook))


def main() -> int:
    stage()
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's end-of-life banner, not about this build
    command = [sys.executable, "-m", "mkdocs", "build", "--quiet", "-f", str(settings.REPO_ROOT / "mkdocs.yml")]
    done = subprocess.run(command, env=environment)
    if done.returncode == 0:
        print(f"site built in {settings.display_path(SITE)}: open {settings.display_path(SITE / 'index.html')}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
