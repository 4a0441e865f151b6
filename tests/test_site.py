"""The course website, checked as a person sees it: served on localhost and opened in headless Chromium. Every page
loads without a console error, every image has drawn, every internal link resolves, and a screenshot of notebook 03's
page is left in build/site-screenshots/ for a person to look at.

Needs the site's packages (requirements-site.txt) and Debian's chromium and chromium-driver; CI installs them.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

import pytest

from utils.guards import settings

pytest.importorskip("mkdocs", reason="the site's packages: pip install -r requirements-site.txt")
webdriver = pytest.importorskip("selenium.webdriver", reason="pip install -r requirements-site.txt")
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.skip("needs Debian's chromium and chromium-driver", allow_module_level=True)

from utils.machinery import site  # noqa: E402

PAGES = [
    "index.html",
    *(f"notebooks/{path.stem}.html" for path in sorted((settings.REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))),
    *(f"notebooks/solutions/{path.stem}.html"
      for path in sorted((settings.REPO_ROOT / "notebooks" / "solutions").glob("[0-9][0-9]_*.ipynb"))),
    "notebooks/solutions/index.html",
    "docs/results.html",
    "docs/instructor_guide.html",
    "docs/maintainers.html",
]


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") if tag in ("a", "link") else None
        if href and not href.startswith(("#", "mailto:", "javascript:")):
            self.found.append(href)


@pytest.fixture(scope="module")
def served():
    assert site.main() == 0, "make site failed"
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site.SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,2200"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_loads_without_console_errors_and_every_image_draws(served, browser, page):
    browser.get(served + page)
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Promise.all([...document.images].map(i => i.complete ? 0 : new Promise(r => { i.onload = i.onerror = r; })))"
        ".then(done);"
    )
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors
    blank = browser.execute_script(
        "return [...document.images].filter(i => i.naturalWidth === 0).map(i => i.src.slice(0, 80));"
    )
    assert not blank, f"images that did not draw: {blank}"
    if page.startswith("notebooks/0"):
        assert browser.execute_script("return document.images.length;") > 0, "a notebook page without its figures"
        assert "google.colab" not in browser.page_source, "the Colab set-up cell is for Colab, not for the web page"
    tags = browser.execute_script(
        "return [...document.querySelectorAll('.cell-tag')].filter(t => t.offsetParent).map(t => t.textContent);"
    )
    assert not tags, f"the tests' cell tags shown to the reader: {sorted(set(tags))}"


def test_every_internal_link_resolves(served):
    """Every link to a page of the site reaches it, and a link to a section of another page (the README's
    "#before-the-day-without-wifi") reaches a heading that page has."""
    broken, ids_of = [], {}  # each linked page fetched and read once, however many links lead to it
    for page in PAGES:
        parser = Links()
        parser.feed(urllib.request.urlopen(served + page).read().decode())
        for href in parser.found:
            target, _, fragment = urllib.parse.urljoin(served + page, href).partition("#")
            if not target.startswith(served):
                continue
            if target.endswith("/"):  # a folder: the local server lists it, a web host answers 404 without index.html
                target += "index.html"
            if target not in ids_of:
                try:
                    answer = urllib.request.urlopen(target)
                except urllib.error.HTTPError as error:
                    ids_of[target] = error.code
                else:
                    anchors = Anchors()
                    if target.endswith(".html"):
                        anchors.feed(answer.read().decode())
                    ids_of[target] = anchors.ids
            if isinstance(ids_of[target], int):
                broken.append(f"{page} -> {href} ({ids_of[target]})")
            elif fragment and target.endswith(".html") and target != served + page and fragment not in ids_of[target]:
                broken.append(f"{page} -> {href} (no such section)")
    assert not broken, broken


def test_a_screenshot_of_notebook_03_for_a_person_to_look_at(served, browser):
    browser.get(served + "notebooks/03_cnn.html")
    folder = settings.REPO_ROOT / "build" / "site-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(folder / "03_cnn.png"))
    browser.execute_script("document.querySelectorAll('img')[1].scrollIntoView();")
    assert browser.save_screenshot(str(folder / "03_cnn_figures.png"))


def test_a_training_log_reads_whole_in_a_laptops_window(served, browser):
    """Notebook 03's BN-CNN log, seconds column included, fits a 1280-pixel window without a sideways scroll, as one
    box (the runner saves a loop's prints as one output; the page hides the In/Out prompts' column)."""
    browser.get(served + "notebooks/03_cnn.html")
    boxes = browser.execute_script(
        "return [...document.querySelectorAll('.jp-OutputArea-output pre')]"
        ".filter(p => p.textContent.includes('Epoch 10/10'))"
        # measured unwrapped: the page wraps a line too long for it, which would break the log's columns
        ".map(p => { p.style.setProperty('white-space', 'pre', 'important');"
        "            return [p.textContent.split('\\n').length, p.scrollWidth, p.clientWidth]; });"
    )
    assert boxes, "no training log on notebook 03's page"
    lines, needed, shown = boxes[0]
    assert lines >= 10, f"the log is split over several boxes: the first holds {lines} lines"
    assert needed <= shown, f"the log needs {needed} pixels, the window shows {shown}: its last column scrolls away"


def test_no_code_line_or_printed_line_hides_behind_a_sideways_scroll_in_a_laptops_window(served, browser):
    """At 1280 pixels the site showed about 90 characters of a line: notebook 05's refusal of a pickled model was cut
    at "(such as a whole model", 06's verdicts before their interval, 04's accuracies (49 printed outputs and 130 code
    boxes scrolled sideways). The page's contents moved into the left column make room for ruff's 120 characters;
    a longer printed line wraps, as JupyterLab wraps it."""
    hidden = []
    for page in PAGES:  # the README and docs pages too: their code blocks scroll inside `pre > code`
        browser.get(served + page)
        hidden += [f"{page}: {line}" for line in browser.execute_script(
            "return [...document.querySelectorAll('.jp-OutputArea-output pre, .jp-InputArea pre, "
            ".jp-RenderedMarkdown pre, .md-content pre > code')].filter(p => p.scrollWidth > p.clientWidth)"
            ".map(p => p.textContent.split('\\n').reduce((a, b) => b.length > a.length ? b : a, '').slice(0, 90));"
        )]
    assert not hidden, hidden


SPLIT_OPTIONS = r"""
const split = [];
for (const code of document.querySelectorAll('.md-content code')) {
  if (code.closest('pre')) continue;  // code blocks do not wrap
  const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
  const characters = [];  // every character of the command with its text node, across the spans inside it
  for (let node = walker.nextNode(); node; node = walker.nextNode())
    for (let i = 0; i < node.length; i++) characters.push([node, i]);
  const top = ([node, i]) => { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
                               return r.getClientRects()[0]?.top; };
  const text = characters.map(([node, i]) => node.data[i]).join('');
  for (let k = 0; k + 1 < text.length; k++) {  // a hyphen that starts an option, and the character after it
    const starts = text[k] === '-' && (k === 0 || /[\s-]/.test(text[k - 1])) && /[A-Za-z-]/.test(text[k + 1]);
    if (starts && top(characters[k]) !== top(characters[k + 1])) split.push(code.textContent.slice(0, 80));
  }
}
return split;
"""


def test_no_option_of_a_command_in_a_sentence_breaks_after_its_hyphen(served, browser):
    """The results page showed `--model` and `--seeds` as "-" at a line's end and "-seeds" on the next, the README
    `-r requirements.txt` as "-" and "r requirements.txt": a reader typing it would type "- -seeds" or "- r". Checked
    in a laptop's window and in a narrow one, where more commands wrap."""
    split = []
    try:
        for width in (1280, 820):
            browser.set_window_size(width, 2200)
            for page in PAGES:
                browser.get(served + page)
                split += [f"{width} px, {page}: {code}" for code in browser.execute_script(SPLIT_OPTIONS)]
    finally:
        browser.set_window_size(1280, 2200)
    assert not split, split


class Anchors(HTMLParser):
    """The ids a page has and the ``#fragment`` links its table of contents points at."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.contents_links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        href = attributes.get("href") or ""
        if tag == "a" and "md-nav__link" in (attributes.get("class") or "") and href.startswith("#"):
            self.contents_links.append(href[1:])


def test_every_table_of_contents_entry_leads_to_its_heading(served):
    """A heading such as "Step 4 · `channels_last`" once gave the page's contents an entry "Step 4 ·" linking to
    #step-4, an anchor the page does not have: clicking it went nowhere."""
    broken = []
    for page in PAGES:
        parser = Anchors()
        parser.feed(urllib.request.urlopen(served + page).read().decode())
        broken += [f"{page}#{fragment}" for fragment in parser.contents_links if fragment not in parser.ids]
    assert not broken, broken


def test_a_figure_opens_at_full_size_on_a_click(served, browser):
    """A figure wider than the page's column (01's rows of 8 samples, 1,131 pixels; 04's gallery of mistakes was
    1,511 until it took 5 columns) is shrunk in the page; a click shows it as wide as the window allows."""
    browser.get(served + "notebooks/01_data_loading.html")
    widest = browser.execute_script(
        "const images = [...document.querySelectorAll('.jp-OutputArea-output img')];"
        "const widest = images.reduce((a, b) => b.naturalWidth > a.naturalWidth ? b : a);"
        "widest.scrollIntoView({block: 'center'}); return widest;"
    )
    in_page, natural = widest.size["width"], browser.execute_script("return arguments[0].naturalWidth;", widest)
    widest.click()
    WebDriverWait(browser, 5).until(lambda driver: driver.execute_script(
        "const shown = document.querySelector('.gslide-image img'); return shown && shown.complete;"))
    shown = browser.execute_script("return document.querySelector('.gslide-image img').clientWidth;")
    window = browser.execute_script("return window.innerWidth;")
    assert shown > in_page and shown >= min(natural, 0.9 * window), f"opened at {shown} pixels, in the page {in_page}"
    browser.execute_script("document.querySelector('.gclose').click();")
