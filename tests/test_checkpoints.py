import os
import time

import pytest
import torch

from utils import checkpoints, data, models, recipes, training
from utils.checkpoints import CheckpointError
from utils.datasets import DATASETS
from utils.guards import settings
from utils.machinery import sources, workflow

SPEC = DATASETS["mnist"]


def _save(path, model, history=None, optimizer=None):
    return checkpoints.save_checkpoint(
        path,
        model,
        dataset="mnist",
        history=history or {"train_loss": [1.0], "val_acc": [0.5]},
        optimizer=optimizer,
        is_sample=False,
    )


def test_round_trip_gives_identical_logits(tmp_path):
    torch.manual_seed(0)
    model = models.CNN().eval()
    images = torch.randn(8, 1, 28, 28)
    _save(tmp_path / "cnn.pt", model)
    loaded = checkpoints.load_checkpoint(tmp_path / "cnn.pt", expect_model="cnn")
    assert not loaded.model.training
    assert torch.equal(loaded.model(images), model(images))
    assert loaded.classes == list(SPEC.classes) and loaded.epoch == 1 and loaded.metrics["val_acc"] == 0.5
    assert loaded.versions["torch"] == torch.__version__
    # a plain torch.load with weights_only=True reads it: nothing but tensors and plain values inside
    assert torch.load(tmp_path / "cnn.pt", weights_only=True)["model"]["name"] == "cnn"


@pytest.mark.parametrize("dataset, view", [("fashion-mnist", "test_time_flips"), ("mnist", "test_time_shifts")])
def test_a_checkpoint_keeps_its_test_time_views(tmp_path, dataset, view):
    model = recipes.course_model("cnn", dataset).eval()
    history = {"val_acc": [0.5]}
    checkpoints.save_checkpoint(tmp_path / "cnn.pt", model, dataset=dataset, history=history, is_sample=False)
    loaded = checkpoints.load_checkpoint(tmp_path / "cnn.pt")
    assert getattr(loaded.model, view)
    images = torch.randn(4, 1, 28, 28)
    assert torch.equal(loaded.model(images), model(images))


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
    assert resumed.epochs == 3 and resumed.val_acc[:2] == history.val_acc


def test_a_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = _save(tmp_path / "models" / "model.pt", models.MLP(hidden=[8]))
    good = path.read_bytes()

    def crash_midway(obj, target):
        open(target, "wb").write(b"PK half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises(
        CheckpointError, match=r"could not write .*model.pt \(disk full\); a file already there is unchanged"
    ):
        _save(path, models.MLP(hidden=[16]))
    assert path.read_bytes() == good
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temporary file left behind
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
    monkeypatch.setattr(settings, "SMOKE", True)
    first = workflow.load_or_train("mlp", "mnist", epochs=1)
    assert "No usable checkpoint at" in capsys.readouterr().out
    assert first.path.exists() and first.is_sample and first.epoch == 1
    second = workflow.load_or_train("mlp", "mnist", epochs=1)
    assert "Loaded" in capsys.readouterr().out
    images = torch.randn(4, 1, 28, 28)
    assert torch.equal(first.model(images), second.model(images))


@pytest.mark.parametrize("shipped_on_sample, loads_it", [(True, True), (False, False)])
def test_load_or_train_uses_the_shipped_model_only_where_it_fits_the_data(
    tmp_path, monkeypatch, capsys, shipped_on_sample, loads_it
):
    """The course ships the MNIST BN-CNN no notebook trains; where the data here differs from what it saw (the
    sample against full MNIST), a model is trained instead, and the shipped file is never touched."""
    monkeypatch.setattr(settings, "SMOKE", True)
    monkeypatch.setattr(workflow, "PRETRAINED", tmp_path / "pretrained")
    shipped = checkpoints.save_checkpoint(
        tmp_path / "pretrained" / "mlp-mnist.pt", models.MLP(hidden=[8]), dataset="mnist",
        history={"val_acc": [0.5]}, metrics={"val_acc": 0.5, "test_acc": 0.5}, is_sample=shipped_on_sample,
    )
    before = shipped.read_bytes()
    loaded = workflow.load_or_train("mlp", "mnist", epochs=1)  # the data here is the sample (no full MNIST)
    out = capsys.readouterr().out
    assert ("Loaded the course's pre-trained" in out) == loads_it and ("No usable checkpoint" in out) != loads_it
    assert (loaded.path == shipped) == loads_it and shipped.read_bytes() == before


def test_metadata_is_derived_from_the_dataset_name(tmp_path):
    path = checkpoints.save_checkpoint(
        tmp_path / "m.pt", models.MLP(hidden=[8]), dataset="fashion-mnist", history={"val_acc": [0.5]}, is_sample=False
    )
    loaded = checkpoints.load_checkpoint(path)
    fashion = DATASETS["fashion-mnist"]
    assert (loaded.classes, loaded.mean, loaded.std) == (list(fashion.classes), fashion.mean, fashion.std)
    assert not loaded.is_sample
    checkpoints.save_checkpoint(
        tmp_path / "sample.pt", models.MLP(hidden=[8]), dataset="mnist", history={"val_acc": [0.5]}, is_sample=True
    )
    assert checkpoints.load_checkpoint(tmp_path / "sample.pt").is_sample  # train_model passes the data's is_sample


def test_a_model_with_no_finished_epoch_is_not_saved(tmp_path):
    with pytest.raises(CheckpointError, match="no epoch has finished"):
        _save(tmp_path / "empty.pt", models.MLP(hidden=[8]), history={"train_loss": [], "val_acc": []})
    assert not (tmp_path / "empty.pt").exists()


def _edited(path, edit):
    payload = torch.load(path, weights_only=True)
    edit(payload)
    torch.save(payload, path)
    return path


EDITS = {
    "no dataset": lambda p: p.pop("dataset"),
    "no model": lambda p: p.pop("model"),
    "no epoch": lambda p: p.pop("epoch"),
    "no metrics": lambda p: p.pop("metrics"),
    "no history": lambda p: p.pop("history"),
    "no classes": lambda p: p["dataset"].pop("classes"),
    "no mean": lambda p: p["dataset"].pop("mean"),
    "no config": lambda p: p["model"].pop("config"),
    "no state dict": lambda p: p.pop("state_dict"),
    "config of another model": lambda p: p["model"].update(config={"width": 3}),
    "unknown model": lambda p: p["model"].update(name="resnet"),
    "std 0": lambda p: p["dataset"].update(std=0.0),
    "accuracy nan": lambda p: p["metrics"].update(val_acc=float("nan")),
    "dataset cifar10": lambda p: p["dataset"].update(name="cifar10"),
    "20 classes": lambda p: p["dataset"].update(classes=[str(i) for i in range(20)]),
    "metrics a list": lambda p: p.update(metrics=[0.9]),
    "recipe a list": lambda p: p.update(recipe=[1, 2]),
    "versions a string": lambda p: p.update(versions="2.6"),
    "is_sample 'no'": lambda p: p["dataset"].update(is_sample="no"),
    "NaN weights": lambda p: p["state_dict"]["layers.1.weight"].fill_(float("nan")),
    "test accuracy 1.5": lambda p: p["metrics"].update(test_acc=1.5),
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_an_edited_or_old_checkpoint_is_one_clear_error(tmp_path, edit):
    path = _edited(_save(tmp_path / "models" / "mlp.pt", models.MLP(hidden=[8])), EDITS[edit])
    with pytest.raises(CheckpointError) as error:
        checkpoints.load_checkpoint(path)
    assert "mlp.pt" in str(error.value)


def test_a_checkpoint_from_an_earlier_version_of_the_course_says_so(tmp_path):
    path = _edited(
        _save(tmp_path / "mlp.pt", models.MLP(hidden=[8])), lambda p: p.update(format="image-classification-course/1")
    )
    with pytest.raises(CheckpointError, match="another version of the course .*Train and save it again"):
        checkpoints.load_checkpoint(path)


def test_twenty_outputs_for_ten_classes_is_refused(tmp_path):
    path = _save(tmp_path / "models" / "mlp.pt", models.MLP(hidden=[8], num_classes=20))
    with pytest.raises(CheckpointError, match="20 outputs for 10 classes"):
        checkpoints.load_checkpoint(path)


def test_load_or_train_retrains_over_an_unusable_checkpoint_and_keeps_it_aside(monkeypatch, capsys):
    monkeypatch.setattr(settings, "SMOKE", True)
    path = workflow.default_checkpoint("mlp", "mnist")
    _edited(_save(path, models.MLP(hidden=[8])), EDITS["no dataset"])
    broken = path.read_bytes()
    loaded = workflow.load_or_train("mlp", "mnist", epochs=1)
    assert "Cannot use it" in capsys.readouterr().out
    assert loaded.epoch == 1 and path.with_name("mlp-mnist.pt.unusable").read_bytes() == broken


def test_refusing_a_malicious_file_never_advises_weights_only_false(tmp_path):
    """For os.system torch says "unsupported GLOBAL", which the old check ("Unsupported global") missed."""

    class RunsCode:
        def __reduce__(self):
            return (os.system, ("echo this would run",))

    torch.save({"format": checkpoints.FORMAT, "payload": RunsCode()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError) as error:
        checkpoints.load_checkpoint(tmp_path / "evil.pt")
    message = str(error.value)
    assert "pickled Python objects" in message and "safety feature" in message
    assert "weights_only=False" not in message and "`weights_only` set to `False`" not in message


def test_stale_temporary_files_of_a_killed_save_are_removed(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    stale, fresh = folder / ".mlp.pt.4242.partial", folder / ".mlp.pt.4343.partial"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"a concurrent save, in progress")
    old = time.time() - 2 * sources.STALE_AFTER_S
    os.utime(stale, (old, old))
    _save(folder / "mlp.pt", models.MLP(hidden=[8]))
    assert not stale.exists() and fresh.exists()


def test_weights_of_the_wrong_shape_say_which(tmp_path):
    path = _edited(
        _save(tmp_path / "models" / "mlp.pt", models.MLP(hidden=[8])),
        lambda p: p["state_dict"].update({"layers.1.weight": torch.zeros(9, 784)}),
    )
    with pytest.raises(CheckpointError, match="size mismatch for layers.1.weight"):
        checkpoints.load_checkpoint(path)


def test_a_full_disk_during_the_save_is_one_clear_error(tmp_path, monkeypatch):
    """torch.save reports a full disk as a RuntimeError from its zip writer, not as an OSError."""
    path = _save(tmp_path / "models" / "mlp.pt", models.MLP(hidden=[8]))
    good = path.read_bytes()

    def disk_full(obj, target):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 3520 vs 3414")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(CheckpointError, match="could not write .*mlp.pt .*unexpected pos"):
        _save(path, models.MLP(hidden=[16]))
    assert path.read_bytes() == good


def test_load_or_train_never_overwrites_a_checkpoint_trained_on_other_data(monkeypatch, capsys):
    """A model trained on full MNIST is kept aside when the data falls back to the sample, not overwritten."""
    monkeypatch.setattr(settings, "SMOKE", True)
    path = workflow.default_checkpoint("mlp", "mnist")
    checkpoints.save_checkpoint(
        path, models.MLP(hidden=[8]), dataset="mnist", history={"val_acc": [0.97]}, is_sample=False
    )
    full = path.read_bytes()
    for _ in range(2):
        path.write_bytes(full)
        workflow.load_or_train("mlp", "mnist", epochs=1)
        assert "was trained on other data; moved it to" in capsys.readouterr().out
    assert path.with_name("mlp-mnist.pt.other-data").read_bytes() == full
    assert path.with_name("mlp-mnist.pt.other-data.2").read_bytes() == full  # the first one kept too
