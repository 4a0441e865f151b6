import pytest
import torch

from utils import checkpoints, config, data, models, training
from utils.checkpoints import CheckpointError

SPEC = data.DATASETS["mnist"]


def _save(path, model, history=None, optimizer=None):
    return checkpoints.save_checkpoint(
        path,
        model,
        dataset="mnist",
        classes=SPEC.classes,
        mean=SPEC.mean,
        std=SPEC.std,
        history=history or {"train_loss": [1.0], "test_acc": [0.5]},
        optimizer=optimizer,
    )


def test_round_trip_gives_identical_logits(tmp_path):
    torch.manual_seed(0)
    model = models.CNN().eval()
    images = torch.randn(8, 1, 28, 28)
    _save(tmp_path / "cnn.pt", model)
    loaded = checkpoints.load_checkpoint(tmp_path / "cnn.pt", expect_model="cnn")
    assert not loaded.model.training
    assert torch.equal(loaded.model(images), model(images))
    assert loaded.classes == list(SPEC.classes) and loaded.epoch == 1 and loaded.metrics["test_acc"] == 0.5
    assert loaded.versions["torch"] == torch.__version__
    # a plain torch.load with weights_only=True reads it: nothing but tensors and plain values inside
    assert torch.load(tmp_path / "cnn.pt", weights_only=True)["model"]["name"] == "cnn"


def test_resume_continues_from_the_saved_epoch(tmp_path):
    train, test = data.load_tensors("mnist", "train", limit=512), data.load_tensors("mnist", "test", limit=200)
    model = models.MLP(hidden=[32])
    optimizer = torch.optim.AdamW(model.parameters())
    history = training.fit(model, train, test, training.Recipe(epochs=2), optimizer=optimizer, progress=False)
    _save(tmp_path / "mlp.pt", model, history.as_dict(), optimizer)

    saved = checkpoints.load_checkpoint(tmp_path / "mlp.pt")
    assert saved.epoch == 2 and saved.optimizer_state is not None
    resumed_optimizer = torch.optim.AdamW(saved.model.parameters())
    resumed_optimizer.load_state_dict(saved.optimizer_state)
    assert resumed_optimizer.state_dict()["state"][0]["step"] == optimizer.state_dict()["state"][0]["step"]
    resumed = training.fit(
        saved.model,
        train,
        test,
        training.Recipe(epochs=1, schedule="constant", lr=1e-4),
        optimizer=resumed_optimizer,
        history=training.History.from_dict(saved.history),
        progress=False,
    )
    assert resumed.epochs == 3 and resumed.test_acc[:2] == history.test_acc


def test_a_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = _save(tmp_path / "model.pt", models.MLP(hidden=[8]))
    good = path.read_bytes()

    def crash_midway(obj, target):
        open(target, "wb").write(b"PK half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        _save(path, models.MLP(hidden=[16]))
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temporary file left behind
    monkeypatch.undo()
    assert checkpoints.load_checkpoint(path).model.config["hidden"] == [8]


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint.*python -m utils.train"):
        checkpoints.load_checkpoint(tmp_path / "nothing.pt")


def test_file_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "notes.pt").write_text("just some text")
    with pytest.raises(CheckpointError, match="notes.pt is not a PyTorch checkpoint"):
        checkpoints.load_checkpoint(tmp_path / "notes.pt")


def test_bare_state_dict_is_not_a_course_checkpoint(tmp_path):
    torch.save(models.MLP().state_dict(), tmp_path / "weights.pt")
    with pytest.raises(CheckpointError, match="not one of this course's checkpoints.*layers.1.weight"):
        checkpoints.load_checkpoint(tmp_path / "weights.pt")


def test_checkpoint_for_another_architecture_says_which(tmp_path):
    _save(tmp_path / "mlp.pt", models.MLP())
    with pytest.raises(CheckpointError, match="holds a 'mlp' model, not a 'cnn'"):
        checkpoints.load_checkpoint(tmp_path / "mlp.pt", expect_model="cnn")


def test_pickled_code_is_refused_and_the_message_explains_why(tmp_path):
    torch.save(models.CNN(), tmp_path / "whole-model.pt")  # the pre-2.6 tutorial habit
    with pytest.raises(CheckpointError) as error:
        checkpoints.load_checkpoint(tmp_path / "whole-model.pt")
    message = str(error.value)
    assert "pickled Python objects" in message and "safety feature" in message and "state_dict" in message


def test_weights_that_do_not_fit_are_reported(tmp_path):
    path = _save(tmp_path / "mlp.pt", models.MLP(hidden=[8]))
    payload = torch.load(path, weights_only=True)
    payload["model"]["config"]["hidden"] = [9]
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="weights do not fit a 'mlp' model"):
        checkpoints.load_checkpoint(path)


def test_load_or_train_trains_once_then_loads(monkeypatch, capsys):
    monkeypatch.setattr(config, "SMOKE", True)
    first = training.load_or_train("mlp", "mnist", epochs=1)
    assert "No checkpoint at" in capsys.readouterr().out
    assert first.path.exists() and first.is_sample and first.epoch == 1
    second = training.load_or_train("mlp", "mnist", epochs=1)
    assert "Loaded" in capsys.readouterr().out
    images = torch.randn(4, 1, 28, 28)
    assert torch.equal(first.model(images), second.model(images))
