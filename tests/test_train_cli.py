import importlib.util
import itertools
import math
import re
import subprocess
import sys

import pytest
import torch

from utils import checkpoints, recipes, training
from utils.guards import settings
from utils.machinery import workflow
from utils.train import main

SMOKE_BATCHES = math.ceil(settings.SMOKE_LIMITS["train"] / training.Recipe().batch_size)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--model", "resnet", "--dataset", "mnist"], "invalid choice: 'resnet'"),
        (["--model", "cnn", "--dataset", "cifar10"], "invalid choice: 'cifar10'"),
        (["--model", "cnn", "--dataset", "mnist", "--epochs", "0"], "must be from 1 to 1000, got 0"),
        (["--model", "cnn", "--dataset", "mnist", "--epochs", "100000000000000000000"], "must be from 1 to 1000"),
        (["--model", "cnn", "--dataset", "mnist", "--epochs", "ten"], "'ten' is not a whole number"),
        (["--dataset", "mnist"], "the following arguments are required: --model"),
        (["--model", "cnn", "--dataset", "mnist", "--device", "quantum"], "unknown device 'quantum'"),
        (["--model", "cnn", "--dataset", "mnist", "--seed", "-1"], "must be from 0 to 4294967295, got -1"),
    ],
)
def test_bad_arguments_are_argparse_errors(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and expected in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_refused_before_the_data_loads(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--model", "cnn", "--dataset", "mnist", "--device", "cuda"])
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and "device 'cuda' is not available on this machine" in err
    assert "MNIST" not in out  # refused before the data was located


def test_trains_prints_epochs_and_the_final_accuracy_and_saves(tmp_path, smoke, capsys):
    path = tmp_path / "mlp.pt"
    assert main(["--model", "mlp", "--dataset", "mnist", "--epochs", "2", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Epoch  1/2" in out and "Epoch  2/2" in out
    final = next(line for line in out.splitlines() if line.startswith("final model:"))
    test_acc = float(final.rsplit("test accuracy ", 1)[1])
    saved = checkpoints.load_checkpoint(path, expect_model="mlp")
    assert saved.epoch == 2 and test_acc > 0.5
    assert saved.metrics["test_acc"] == test_acc and saved.metrics["val_acc"] == saved.history["val_acc"][-1]


def test_save_into_a_folder_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--model", "mlp", "--dataset", "mnist", "--save", str(tmp_path)])
    assert "is a folder" in capsys.readouterr().err


def test_an_unwritable_save_target_is_refused_before_training(tmp_path, smoke, capsys):
    """It used to raise OSError after all the epochs had run, losing the model."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("")
    with pytest.raises(SystemExit) as exit_:
        main(["--model", "mlp", "--dataset", "mnist", "--save", str(a_file / "model.pt")])
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and "cannot write" in err and "notes.txt is a file, not a folder" in err
    assert "Epoch" not in out


def _interrupt_at(monkeypatch, batch: int) -> None:
    """Make the course recipe's augmentation raise KeyboardInterrupt (Ctrl-C) at the given training batch."""
    recipe_of = recipes.course_recipe

    def interrupting_recipe(model, dataset, epochs=None):
        recipe, _ = recipe_of(model, dataset, epochs)
        calls = itertools.count(1)

        def augment(images):
            if next(calls) == batch:
                raise KeyboardInterrupt
            return images

        return recipe, augment

    monkeypatch.setattr(workflow, "course_recipe", interrupting_recipe)  # what train_model calls


def test_ctrl_c_never_replaces_a_good_checkpoint(tmp_path, smoke, monkeypatch, capsys):
    good = tmp_path / "good.pt"
    assert main(["--model", "mlp", "--dataset", "mnist", "--epochs", "1", "--save", str(good)]) == 0
    before = good.read_bytes()

    _interrupt_at(monkeypatch, SMOKE_BATCHES + 5)  # halfway through epoch 2
    assert main(["--model", "mlp", "--dataset", "mnist", "--epochs", "3", "--save", str(good)]) == 130
    out, err = capsys.readouterr()
    assert good.read_bytes() == before
    kept = checkpoints.load_checkpoint(tmp_path / "good.interrupted.pt")
    assert kept.epoch == 1 and kept.metrics["val_acc"] == kept.history["val_acc"][-1]
    assert "good.interrupted.pt" in out and "back at the end of epoch 1" in out and err.strip() == "interrupted"

    _interrupt_at(monkeypatch, 3)  # in epoch 1: nothing finished, nothing written
    (tmp_path / "good.interrupted.pt").unlink()
    assert main(["--model", "mlp", "--dataset", "mnist", "--epochs", "2", "--save", str(good)]) == 130
    assert good.read_bytes() == before and not (tmp_path / "good.interrupted.pt").exists()
    assert "Nothing saved" in capsys.readouterr().out


def test_no_progress_bars_when_the_output_is_not_a_terminal(smoke, monkeypatch, capsys):
    monkeypatch.setattr(settings, "PROGRESS", True)
    assert main(["--model", "mlp", "--dataset", "mnist", "--epochs", "1"]) == 0
    captured = capsys.readouterr()
    assert "%|" not in captured.err + captured.out and "Epoch  1/1" in captured.out


def test_the_commands_answer_help_and_predict_without_importing_torchvision():
    """Importing torchvision (and the torch._dynamo it pulls in) takes seconds; only reading or downloading a dataset
    needs it, not ``--help``, an argument error or a prediction from a checkpoint."""
    code = ("import sys, utils.machinery.train_command, utils.machinery.predict_command, utils.checkpoints\n"
            "print(sorted(name for name in sys.modules if name.split('.')[0] == 'torchvision'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=settings.REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_phase_benchmark_finds_every_phase_and_puts_the_functions_back(smoke, capsys):
    """``benchmarks/cli_phases.py`` times the command's phases by wrapping its functions: a phase whose function
    was renamed or no longer called would be missing from its report."""
    spec = importlib.util.spec_from_file_location("cli_phases", settings.REPO_ROOT / "benchmarks" / "cli_phases.py")
    cli_phases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli_phases)
    before = (workflow.fit, workflow.final_metrics, workflow.load_tensors, training.evaluate)
    assert cli_phases.main(["--model", "mlp", "--dataset", "mnist", "--epochs", "2"]) == 0
    assert (workflow.fit, workflow.final_metrics, workflow.load_tensors, training.evaluate) == before
    report = capsys.readouterr().out.split("where the")[1]
    seconds = {phase: float(value) for value, phase in re.findall(r"^\s+([\d.]+) s\s+\d+%\s+(.+)$", report, re.M)}
    assert seconds["the 2 epochs (the times they print)"] > 0, report
    for phase in cli_phases.PHASES.values():  # a phase has a line only if its function ran
        assert phase in seconds or phase == "saving the checkpoint", report  # no --save here
