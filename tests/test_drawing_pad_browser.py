"""Draw a 7 on notebook 05's drawing pad in a real JupyterLab, in headless Chromium, and read the model's answer.

JupyterLab runs on localhost with no network (anywidget's front end comes from its wheel); a copy of notebook 05 (never
the committed file: JupyterLab saves what it runs) runs top to bottom in smoke mode with its own checkpoint folder;
the 7 is drawn with mouse events on the canvas.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from utils.guards import settings

webdriver = pytest.importorskip("selenium.webdriver", reason="pip install -r requirements-site.txt")
if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.skip("needs Debian's chromium and chromium-driver", allow_module_level=True)

from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.expected_conditions import element_to_be_clickable as clickable  # noqa: E402
from selenium.webdriver.support.expected_conditions import visibility_of_element_located as visible  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

NOTEBOOK = "notebooks/05_save_and_reload.ipynb"
DATA = settings.data_dir()  # read before the tests' own empty data folders are set up: the real one
RUN_SECONDS = 300  # notebook 05 in smoke mode, training its models the first time: well under a minute here


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab on localhost, serving a copy of notebook 05 and its images, its kernels in smoke mode with a fresh
    checkpoint folder; the committed notebook is never opened, so nothing JupyterLab saves can touch it."""
    served = tmp_path / "course"
    (served / "notebooks").mkdir(parents=True)
    shutil.copy(settings.REPO_ROOT / NOTEBOOK, served / NOTEBOOK)
    shutil.copytree(settings.REPO_ROOT / "notebooks" / "images", served / "notebooks" / "images")
    before = (settings.REPO_ROOT / NOTEBOOK).read_bytes()
    port = free_port()
    env = {
        **os.environ,
        "COURSE_SMOKE": "1",
        "COURSE_PROGRESS": "0",
        "COURSE_DATA_DIR": str(DATA),
        "COURSE_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={served}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--allow-root",
    ]
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {(tmp_path / 'jupyterlab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield url
        assert (settings.REPO_ROOT / NOTEBOOK).read_bytes() == before, "the committed notebook 05 was changed"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
    yield driver
    driver.quit()


def draw(browser, canvas, *points: tuple[int, int]) -> None:
    """One stroke through ``points`` (pixels from the canvas's centre), in small mouse moves as a hand makes."""
    actions = ActionChains(browser, duration=10).move_to_element_with_offset(canvas, *points[0]).click_and_hold()
    position = points[0]
    for target in points[1:]:
        for step in range(1, 11):
            x, y = (start + (end - start) * step // 10 for start, end in zip(position, target))
            actions.move_to_element_with_offset(canvas, x, y)
        position = target
    actions.release().perform()


def test_a_seven_drawn_on_notebook_05s_pad_is_read_as_a_seven(jupyterlab, browser):
    shots = settings.REPO_ROOT / "build"
    shots.mkdir(exist_ok=True)

    def wait_for(condition, seconds: float, what: str):
        try:
            return WebDriverWait(browser, seconds).until(condition)
        except TimeoutException:
            browser.save_screenshot(str(shots / "drawing-pad-failed.png"))
            pytest.fail(f"no {what} after {seconds} s: see build/drawing-pad-failed.png")

    browser.get(f"{jupyterlab}/lab/tree/{NOTEBOOK}")
    wait_for(visible((By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")), 90, "notebook")
    wait_for(lambda driver: "| Idle" in driver.find_element(By.CSS_SELECTOR, ".jp-StatusBar-Widget").text
             or "Idle" in driver.find_element(By.ID, "jp-main-statusbar").text, 90, "kernel ready")
    wait_for(clickable((By.XPATH, "//li[contains(@class, 'lm-MenuBar-item')][.//div[text()='Run']]")), 30,
             "Run menu").click()
    wait_for(clickable((By.XPATH, "//li[contains(@class, 'lm-Menu-item')][.//div[text()='Run All Cells']]")), 30,
             "Run All Cells").click()
    canvas = wait_for(visible((By.CSS_SELECTOR, "canvas.course-pad")), RUN_SECONDS, "drawing pad")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", canvas)
    time.sleep(1)
    draw(browser, canvas, (-70, -85), (70, -85), (-15, 95))  # a 7: the bar, then the stem down to the left
    answer = wait_for(visible((By.CSS_SELECTOR, ".course-top")), 60, "answer on the pad")
    browser.save_screenshot(str(shots / "drawing-pad.png"))  # for a person to look at
    assert answer.text.strip() == "7", f"the pad read {answer.text!r}"

    # the fallback in the same cell: the upload button, given a picture of a 3. The button opens a file input that
    # ipywidgets never puts in the page; put it there when clicked, so that WebDriver can hand it the file
    browser.execute_script(
        "const click = HTMLInputElement.prototype.click;"
        "HTMLInputElement.prototype.click = function () {"
        "  if (this.type !== 'file') return click.call(this);"
        "  this.id = 'course-upload'; document.body.appendChild(this); };"
    )
    browser.find_element(By.CSS_SELECTOR, ".jupyter-widget-upload, .widget-upload").click()
    picker = wait_for(lambda driver: driver.find_element(By.ID, "course-upload"), 10, "file input")
    picker.send_keys(str(settings.REPO_ROOT / "notebooks" / "images" / "digit_3.png"))
    wait_for(lambda driver: driver.find_element(By.CSS_SELECTOR, ".course-top").text.strip() == "3", 60,
             "answer to the uploaded 3")
