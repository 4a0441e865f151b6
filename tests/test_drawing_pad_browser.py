"""Draw a 7 on notebook 05's drawing pad in a real JupyterLab, in headless Chromium, and read the model's answer.

JupyterLab runs on localhost with no network (anywidget's front end comes from its wheel); a copy of notebook 05 (never
the committed file: JupyterLab saves what it runs), cut to the cells the pad needs (its settings, the digit model, the
pad: nbval runs every cell of it), runs top to bottom in smoke mode with its own checkpoint folder; the 7 is drawn
with mouse events on the canvas.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import free_port

from utils import checkpoints, predict
from utils.guards import settings
from utils.machinery import workflow

webdriver = pytest.importorskip("selenium.webdriver", reason="pip install -r requirements-site.txt")
if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.skip("needs Debian's chromium and chromium-driver", allow_module_level=True)

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.expected_conditions import element_to_be_clickable as clickable  # noqa: E402
from selenium.webdriver.support.expected_conditions import visibility_of_element_located as visible  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

NOTEBOOK = "notebooks/05_save_and_reload.ipynb"
DATA = settings.data_dir()  # read before the tests' own empty data folders are set up: the real one
RUN_SECONDS = 300  # notebook 05's pad cells in smoke mode, training the digit model the first time: under a minute
PAD_CELLS = ("from utils import", "digit_model = workflow.load_or_train", "drawing_pad(digit_model)")
"""What starts each code cell the pad needs: the settings, the MNIST model it reads digits with, the pad itself."""


def pad_cells_only(notebook: dict) -> dict:
    """Notebook 05 with only the code cells the pad needs, in their order (the rest trains models it does not use)."""
    cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"
             and any(line.startswith(PAD_CELLS) for line in "".join(cell["source"]).splitlines())]
    assert len(cells) == len(PAD_CELLS), "notebook 05's pad cells moved: update PAD_CELLS"
    return {**notebook, "cells": cells}


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab on localhost, serving a copy of notebook 05 and its images, its kernels in smoke mode with a fresh
    checkpoint folder; the committed notebook is never opened, so nothing JupyterLab saves can touch it."""
    served = tmp_path / "course"
    (served / "notebooks").mkdir(parents=True)
    notebook = json.loads((settings.REPO_ROOT / NOTEBOOK).read_text())
    (served / NOTEBOOK).write_text(json.dumps(pad_cells_only(notebook)))
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


def test_a_seven_drawn_on_notebook_05s_pad_is_read_as_a_seven(jupyterlab, browser, tmp_path):
    jupyterlab_checkpoints = tmp_path / "checkpoints"  # the kernel's COURSE_CHECKPOINT_DIR
    shots = settings.REPO_ROOT / "build"
    shots.mkdir(exist_ok=True)

    def wait_for(condition, seconds: float, what: str):
        try:
            # an answer the kernel redraws while it is read goes stale: read it again
            return WebDriverWait(browser, seconds, ignored_exceptions=[StaleElementReferenceException]).until(condition)
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
    answer = wait_for(top_answer, 60, "answer on the pad")
    browser.save_screenshot(str(shots / "drawing-pad.png"))  # for a person to look at
    assert answer == "7", f"the pad read {answer!r}"

    # the fallback in the same cell: clear the pad, then give the upload button a picture of a 3. The answer expected
    # is what the kernel's model says about that file (in CI a model trained on the MNIST sample may not read a 3),
    # so this checks that an upload takes the same path to the same model as utils.predict, whatever the model
    wait_for(clickable((By.CSS_SELECTOR, "button.course-pad-clear")), 30, "clear button").click()
    wait_for(lambda driver: top_answer(driver) is None, 30, "cleared pad")
    picture = settings.REPO_ROOT / "notebooks" / "images" / "digit_3.png"
    expected = predict.predict_file(picture, kernels_checkpoint(jupyterlab_checkpoints))[0][0]
    # the button opens a file input that ipywidgets never puts in the page; put it there when clicked, so that
    # WebDriver can hand it the file
    browser.execute_script(
        "const click = HTMLInputElement.prototype.click;"
        "HTMLInputElement.prototype.click = function () {"
        "  if (this.type !== 'file') return click.call(this);"
        "  this.id = 'course-upload'; document.body.appendChild(this); };"
    )
    upload = wait_for(clickable((By.CSS_SELECTOR, ".jupyter-widget-upload, .widget-upload")), 30, "upload button")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", upload)
    upload.click()
    picker = wait_for(lambda driver: driver.find_element(By.ID, "course-upload"), 10, "file input")
    picker.send_keys(str(picture))
    wait_for(lambda driver: top_answer(driver) == expected, 60, f"answer {expected!r} to the uploaded 3")


def top_answer(driver) -> str | None:
    """The pad's top answer as the page shows it, or None while it shows none."""
    shown = driver.find_elements(By.CSS_SELECTOR, ".course-top")
    return shown[0].text.strip() if shown else None


def kernels_checkpoint(folder):
    """The MNIST BN-CNN notebook 05's kernel loaded: the one it trained into ``folder``, else the course's shipped one
    (``workflow.load_or_train``)."""
    trained = folder / "cnn-mnist.pt"
    return checkpoints.load_checkpoint(trained if trained.exists() else workflow.PRETRAINED / "cnn-mnist.pt")
