"""Hostile or clumsy input: special files, memory bombs, terminal escapes, signals, mistyped settings.

Each case ends in one clear line and a non-zero exit, with no traceback, and damages nothing: a special file stays
what it was, a good checkpoint stays as it was, memory stays near the size of the file that was read.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
from conftest import OFFLINE
from PIL import Image, PngImagePlugin

from utils import checkpoints, data, models, predict
from utils.checkpoints import CheckpointError
from utils.datasets import DATASETS
from utils.guards import settings, text
from utils.machinery import predict_command, results, signals, sources
from utils.train import main as train_main

ESCAPES = "ansi_\x1b[31mRED\x1b[0m_\x1b]0;pwned\a"
MNIST_FILES = DATASETS["mnist"]


def _save(path, model=None):
    return checkpoints.save_checkpoint(
        path, model or models.MLP(hidden=[8]), dataset="mnist", history={"train_loss": [1.0], "val_acc": [0.5]},
        is_sample=False,
    )


def _edited(path, edit):
    payload = torch.load(path, weights_only=True)
    edit(payload)
    torch.save(payload, path)
    return path


def _run_python(code: str, *, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter from the repository, as a learner's command would run."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.REPO_ROOT,
        env={**os.environ, "COURSE_PROGRESS": "0", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# Tools run in a subprocess never reach the internet: the download mirrors point at a closed local port.


def _one_clean_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr and len(lines) == 1, stderr
    return lines[0]


# --- special files: never replaced -----------------------------------------------------------------------------


def _fifo(folder):
    path = folder / "pipe.pt"
    os.mkfifo(path)
    return path


def _socket(folder):
    path = folder / "sock.pt"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays
    return path


def _char_device(folder):
    path = folder / "null.pt"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own, in the test's folder
    except PermissionError:
        pytest.skip("creating a device file needs root")
    return path


SPECIAL_FILES = {"fifo": _fifo, "socket": _socket, "character device": _char_device}


@pytest.fixture(params=list(SPECIAL_FILES))
def special_file(request, tmp_path):
    folder = tmp_path / "s"  # a short path: a socket's name is limited to about 100 bytes
    folder.mkdir()
    path = SPECIAL_FILES[request.param](folder)
    return path, stat.S_IFMT(path.lstat().st_mode)


def test_train_refuses_to_save_over_a_special_file(special_file, capsys):
    path, kind = special_file
    with pytest.raises(SystemExit) as exit_:
        train_main(["--model", "mlp", "--dataset", "mnist", "--epochs", "1", "--save", str(path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "not a file: choose another path" in err
    assert stat.S_IFMT(path.lstat().st_mode) == kind


def test_save_checkpoint_refuses_a_special_file(special_file):
    path, kind = special_file
    with pytest.raises(CheckpointError, match="not a file"):
        _save(path)
    assert stat.S_IFMT(path.lstat().st_mode) == kind


def test_results_and_data_imports_refuse_a_special_file(special_file, tmp_path):
    path, kind = special_file
    with pytest.raises(results.ResultsError, match="not a file"):
        results.write(path, {"runs": {}})
    raw = tmp_path / "raw"
    raw.mkdir()
    os.rename(path, raw / "train-images-idx3-ubyte")
    with pytest.raises(sources.DataFolderError, match="not a file: move it out of the data folder"):
        sources._install({"t10k-labels-idx1-ubyte": b"x", "train-images-idx3-ubyte": b"x"}, raw)
    assert stat.S_IFMT((raw / "train-images-idx3-ubyte").lstat().st_mode) == kind
    assert not (raw / "t10k-labels-idx1-ubyte").exists()  # nothing written when one target is refused


def test_predict_names_a_pipe_for_what_it_is(tmp_path, capsys):
    checkpoint = _save(tmp_path / "mlp.pt")
    pipe = _fifo(tmp_path)
    assert predict_command.main([str(pipe), "--checkpoint", str(checkpoint)]) == 1
    assert "named pipe (FIFO), not an image file" in _one_clean_line(capsys.readouterr().err)


# --- memory: an edited checkpoint cannot allocate gigabytes -----------------------------------------------------


def test_an_edited_configuration_is_refused_before_memory_is_allocated(tmp_path):
    """hidden [20000, 20000] would need 1.6 GB of weights; the file holds an 8-unit MLP's few kilobytes. The peak
    memory is measured past what importing PyTorch takes (about 1 GB of its own)."""
    path = _edited(_save(tmp_path / "bomb.pt"), lambda p: p["model"]["config"].update(hidden=[20000, 20000]))
    done = _run_python(
        textwrap.dedent(f"""
            import resource, sys
            from utils import checkpoints
            def peak():
                return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
            before = peak()
            try:
                checkpoints.load_checkpoint({str(path)!r})
            except checkpoints.CheckpointError as error:
                print(error)
            print(peak() - before)
        """)
    )
    message, grown = done.stdout.splitlines()
    assert "weights do not fit a 'mlp' model" in message
    assert int(grown) < 250e6, f"loading the file took {int(grown) / 1e9:.2f} GB more memory"


def test_integer_weights_are_refused(tmp_path):
    path = _edited(
        _save(tmp_path / "ints.pt"),
        lambda p: p["state_dict"].update({key: value.long() for key, value in p["state_dict"].items()}),
    )
    with pytest.raises(CheckpointError, match="holds torch.int64 values, the model needs torch.float32"):
        checkpoints.load_checkpoint(path)


# --- terminal control codes never reach the screen ---------------------------------------------------------------


def test_file_names_with_escape_codes_and_newlines_print_escaped(tmp_path, capsys):
    checkpoint = _save(tmp_path / "mlp.pt")
    digit = data.load_dataset("mnist", "test").data[0].numpy()
    good, forged = tmp_path / f"{ESCAPES}.png", tmp_path / "seven.png\nseven.png: 7 (100.0%).png"
    for path in (good, forged):
        Image.fromarray(digit).save(path, format="PNG")
    missing = tmp_path / f"gone_{ESCAPES}.png"
    capsys.readouterr()  # the line saying where MNIST was found
    assert predict_command.main([str(good), str(forged), str(missing), "--checkpoint", str(checkpoint)]) == 1
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\a" not in out + err
    assert len(out.splitlines()) == 2 and "\\x1b[31mRED" in out  # one line per image, the name escaped
    assert "no such file" in _one_clean_line(err)


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: p.update(format="image-classification-course/\x1b[2J"),
        lambda p: p.clear() or p.update({"\x1b[2Jkey": 1, "weights\n": 2}),
    ],
    ids=["format", "keys"],
)
def test_checkpoint_strings_print_escaped(tmp_path, edit):
    path = _edited(_save(tmp_path / "mlp.pt"), edit)
    with pytest.raises(CheckpointError) as error:
        checkpoints.load_checkpoint(path)
    assert "\x1b" not in str(error.value) and "\n" not in str(error.value) and "\\x1b[2J" in str(error.value)


# --- settings and paths: one line, not a traceback -------------------------------------------------------------


@pytest.mark.parametrize(
    "variable, value",
    [("COURSE_PRECISION", "bf16"), ("COURSE_SMOKE", "banana"), ("COURSE_PROGRESS", "maybe")],
)
def test_a_mistyped_setting_is_one_line(variable, value):
    done = _run_python("import utils.train", env={variable: value})
    line = _one_clean_line(done.stderr)
    assert done.returncode != 0 and line.startswith(f"error: {variable}={value!r} is not a setting")


@pytest.mark.parametrize("value, expected", [("yes", True), ("0", False), ("FALSE", False), (" on ", True)])
def test_the_accepted_spellings_of_a_flag(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_SMOKE", value)
    assert text.flag("COURSE_SMOKE") is expected


def test_a_symbolic_link_loop_is_one_line_everywhere(tmp_path, monkeypatch, capsys):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    monkeypatch.setenv("COURSE_DATA_DIR", str(loop))
    for command in (["info"], ["fetch"]):
        assert sources.main(command) == 1
        assert "symbolic link that loops" in _one_clean_line(capsys.readouterr().err)
    assert predict_command.main(["x.png", "--checkpoint", str(loop)]) == 2
    assert "symbolic link that loops" in _one_clean_line(capsys.readouterr().err)
    with pytest.raises(SystemExit) as exit_:
        train_main(["--model", "mlp", "--dataset", "mnist", "--save", str(loop)])
    assert exit_.value.code == 2 and "symbolic link that loops" in capsys.readouterr().err
    assert loop.is_symlink()


@pytest.mark.parametrize(
    "content, expected",
    [('{"runs": {"x": ', "cannot be read"), ('{"hardware": "x"}', "holds no 'runs' table"), ("[1]", "holds a list")],
)
def test_a_damaged_results_file_is_one_line(tmp_path, monkeypatch, capsys, content, expected):
    damaged = tmp_path / "seeds.json"
    damaged.write_text(content)
    monkeypatch.setattr(results, "RESULTS_FILE", damaged)
    assert results.main() == 1
    assert expected in _one_clean_line(capsys.readouterr().err)


def test_a_results_record_missing_a_field_is_one_line(tmp_path, monkeypatch, capsys):
    incomplete = tmp_path / "seeds.json"
    incomplete.write_text(json.dumps({"runs": {"mlp-fashion": {"description": "MLP"}}}))
    monkeypatch.setattr(results, "RESULTS_FILE", incomplete)
    assert results.main() == 1
    assert "lacks" in _one_clean_line(capsys.readouterr().err)


def test_a_name_too_long_for_the_file_system_is_one_line(tmp_path, monkeypatch, capsys):
    long = tmp_path / ("x" * 300)
    with pytest.raises(SystemExit) as exit_:
        train_main(["--model", "mlp", "--dataset", "mnist", "--save", f"{long}.pt"])
    assert exit_.value.code == 2 and "a name too long for the file system" in capsys.readouterr().err
    assert predict_command.main([f"{long}.png", "--checkpoint", f"{long}.pt"]) == 2
    assert "a name too long for the file system" in _one_clean_line(capsys.readouterr().err)
    assert _image_problem(f"{long}.png").endswith(": a name too long for the file system, not an image file")
    monkeypatch.setenv("COURSE_DATA_DIR", str(long))
    assert sources.main(["info"]) == 1
    assert "a name too long for the file system" in _one_clean_line(capsys.readouterr().err)


def _image_problem(path) -> str:
    with pytest.raises(predict.ImageProblem) as problem:
        predict.load_image(path)
    return str(problem.value)


# --- SIGTERM is Ctrl-C: the finished epochs are kept -------------------------------------------------------------


def test_sigterm_and_sighup_stop_like_ctrl_c():
    before = signal.getsignal(signal.SIGTERM)
    for number, code in ((signal.SIGTERM, 143), (signal.SIGHUP, 129)):
        with pytest.raises(KeyboardInterrupt) as stopped, signals.stop_like_ctrl_c():
            os.kill(os.getpid(), number)
            time.sleep(5)  # the signal arrives first
        assert signals.exit_code(stopped.value) == code
        assert signals.describe(stopped.value) == f"stopped by {number.name}"
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_signal_ignored_before_stays_ignored():
    """``nohup`` ignores SIGHUP so that a run survives a closed terminal: the course must not undo that."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with signals.stop_like_ctrl_c():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGHUP)  # ignored: nothing happens
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_sigterm_during_training_keeps_the_finished_epochs(tmp_path):
    target = tmp_path / "term.pt"
    process = subprocess.Popen(
        [sys.executable, "-u", "-c", OFFLINE + "import sys\nfrom utils.train import main\n"
         f"sys.exit(main(['--model', 'mlp', '--dataset', 'mnist', '--epochs', '50', '--save', {str(target)!r}]))"],
        cwd=settings.REPO_ROOT,
        env={**os.environ, "COURSE_SMOKE": "1", "COURSE_PROGRESS": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stdout:
            if line.startswith("Epoch  1/50"):
                process.send_signal(signal.SIGTERM)
                break
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 143 and _one_clean_line(err) == "stopped by SIGTERM"
    kept = checkpoints.load_checkpoint(tmp_path / "term.interrupted.pt")
    assert 1 <= kept.epoch < 50 and not target.exists() and "term.interrupted.pt" in out


# --- clear words for what a file is ------------------------------------------------------------------------------


def test_a_save_path_ending_in_a_slash_names_a_folder(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        train_main(["--model", "mlp", "--dataset", "mnist", "--save", f"{tmp_path}/newdir/"])
    assert exit_.value.code == 2 and "newdir is a folder; give a file name such as" in capsys.readouterr().err
    assert not (tmp_path / "newdir").exists()


def _npy(path):
    np.save(path.with_suffix(".npy"), np.zeros(3))
    path.with_suffix(".npy").rename(path)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda path: path.write_bytes(gzip.compress(_save(path).read_bytes())), "is gzip-compressed: decompress it"),
        (_npy, "is a NumPy array file"),
        (lambda path: path.write_text("epoch 3, accuracy 0.9\n"), "not a PyTorch checkpoint .*looks like text"),
        (lambda path: path.write_bytes(b""), "is empty"),
        (lambda path: path.mkdir(), "is a folder, not a checkpoint file"),
    ],
    ids=["gzip", "npy", "text", "empty", "folder"],
)
def test_a_file_that_is_not_a_checkpoint_says_what_it_is(tmp_path, make, expected):
    path = tmp_path / "model.pt"
    make(path)
    with pytest.raises(CheckpointError, match=expected) as error:
        checkpoints.load_checkpoint(path)
    assert "pickled" not in str(error.value)


@pytest.mark.parametrize(
    "name, hint",
    [("cnn-mnist.pt", "--model cnn --dataset mnist"), ("mine.pt", "--model {mlp|cnn|plain-cnn} --dataset")],
)
def test_the_hint_for_a_missing_checkpoint_trains_what_was_asked(tmp_path, name, hint):
    with pytest.raises(CheckpointError, match="no such checkpoint") as error:
        checkpoints.load_checkpoint(tmp_path / name)
    assert hint in str(error.value)


def test_a_png_with_oversized_metadata_says_so(tmp_path):
    """A text chunk of over 1 MB compressed to a few kB: PIL refuses to decompress it, and the message says why."""
    path = tmp_path / "meta.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "A" * (PngImagePlugin.MAX_TEXT_CHUNK + 1), zip=True)
    Image.new("L", (28, 28)).save(path, pnginfo=info)
    with pytest.raises(predict.ImageProblem, match="oversized metadata"):
        predict.load_image(path)


def test_a_long_strip_with_a_line_is_read_not_called_empty(tmp_path):
    strip = np.full((10, 5000), 255, dtype=np.uint8)
    strip[5, 1000:4000] = 0  # a dark stroke on white
    path = tmp_path / "strip.png"
    Image.fromarray(strip).save(path)
    tensor, steps = predict.prepare(predict.load_image(path), mean=0.0, std=1.0)
    assert tensor.shape == (1, 1, 28, 28) and steps["centred in 28×28"].max() > 0.5


def test_another_datasets_files_are_named_for_what_they_are(tmp_path, fake_fashion, monkeypatch):
    """Fashion-MNIST's files in the MNIST folder: 'Fashion-MNIST's file', not just 'not the original'."""
    fake_mnist = {name: "0" * 32 for name in MNIST_FILES.names}
    monkeypatch.setitem(DATASETS, "mnist", dataclasses.replace(MNIST_FILES, content_md5=fake_mnist))
    with pytest.raises(sources.DataIntegrityError, match="is Fashion-MNIST's file, not MNIST's"):
        sources.read_original(fake_fashion, "train-images-idx3-ubyte", DATASETS["mnist"])
