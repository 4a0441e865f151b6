import pytest

from utils import checkpoints, config
from utils.train import main


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--model", "resnet", "--dataset", "mnist"], "invalid choice: 'resnet'"),
        (["--model", "cnn", "--dataset", "cifar10"], "invalid choice: 'cifar10'"),
        (["--model", "cnn", "--dataset", "mnist", "--epochs", "0"], "must be at least 1"),
        (["--model", "cnn", "--dataset", "mnist", "--epochs", "ten"], "'ten' is not a whole number"),
        (["--dataset", "mnist"], "the following arguments are required: --model"),
    ],
)
def test_bad_arguments_are_argparse_errors(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and expected in capsys.readouterr().err


def test_trains_prints_epochs_and_the_final_accuracy_and_saves(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "SMOKE", True)
    path = tmp_path / "mlp.pt"
    assert main(["--model", "mlp", "--dataset", "mnist", "--epochs", "2", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Epoch  1/2" in out and "Epoch  2/2" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("test accuracy: 0.") and float(last.split(": ")[1]) > 0.5
    assert checkpoints.load_checkpoint(path, expect_model="mlp").epoch == 2


def test_save_into_a_folder_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--model", "mlp", "--dataset", "mnist", "--save", str(tmp_path)])
    assert "is a folder" in capsys.readouterr().err


def test_no_progress_bars_when_the_output_is_not_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(config, "SMOKE", True)
    monkeypatch.setattr(config, "PROGRESS", True)
    assert main(["--model", "mlp", "--dataset", "mnist", "--epochs", "1"]) == 0
    captured = capsys.readouterr()
    assert "%|" not in captured.err + captured.out and "Epoch  1/1" in captured.out
