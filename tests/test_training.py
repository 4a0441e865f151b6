import itertools
import os
import subprocess
import sys

import pytest
import torch

from utils import data, evaluation, hardware, models, recipes, training
from utils.guards import settings
from utils.machinery import workflow

FAST = training.Recipe(epochs=1, batch_size=64)


@pytest.fixture
def digits():
    return data.load_tensors("mnist", "train", limit=1024), data.load_tensors("mnist", "test", limit=500)


def _fit(model_factory, train, test, recipe=FAST, seed=0, **kwargs):
    torch.manual_seed(seed)
    model = model_factory()
    return model, training.fit(model, train, test, recipe, seed=seed, progress=False, verbose=False, **kwargs)


@pytest.mark.parametrize("factory", [lambda: models.MLP(hidden=[64]), models.CNN])
def test_same_seed_gives_the_same_numbers_on_cpu(digits, factory):
    _, first = _fit(factory, *digits, device="cpu")
    _, second = _fit(factory, *digits, device="cpu")
    assert first.train_loss == second.train_loss and first.val_acc == second.val_acc


def test_fit_checks_each_epoch_on_one_view_and_leaves_the_views_on(digits, monkeypatch):
    """The test-time views cost two to five passes over the validation split; fit's check after each epoch needs
    one, and the finished model keeps its views for the final measurement."""
    seen = []
    real_evaluate = training.evaluate

    def recording_evaluate(model, data, device):
        seen.append((model.test_time_flips, model.test_time_shifts))
        return real_evaluate(model, data, device)

    monkeypatch.setattr(training, "evaluate", recording_evaluate)
    model, _ = _fit(lambda: models.CNN(test_time_flips=True, test_time_shifts=True), *digits)
    assert seen == [(False, False)] and model.test_time_flips and model.test_time_shifts


@pytest.mark.parametrize("channels_last", [False, True])
def test_every_epoch_trains_in_the_recipes_layout_though_the_check_before_it_used_channels_last(
    digits, monkeypatch, channels_last
):
    """evaluate() leaves the model in channels_last; an epoch of a recipe without it must not train a model in one
    layout on images in the other (the step the speedrun and notebook 06 time)."""
    layouts = []
    real_train_one_epoch = training.train_one_epoch

    def recording_train_one_epoch(model, *args, **kwargs):
        weight = model.features[4].weight  # 32 input channels: the two layouts differ
        layouts.append(weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous())
        return real_train_one_epoch(model, *args, **kwargs)

    monkeypatch.setattr(training, "train_one_epoch", recording_train_one_epoch)
    _fit(models.CNN, *digits, recipe=training.Recipe(epochs=2, batch_size=64, channels_last=channels_last))
    assert layouts == [channels_last, channels_last]


def test_evaluation_in_channels_last_gives_the_numbers_of_the_default_layout(digits):
    """predict_logits always evaluates in channels_last (faster for convolutions); the logits must be those of a
    plain pass in the default layout, up to float rounding."""
    torch.manual_seed(0)
    model, (_, test) = models.CNN(test_time_shifts=True).eval(), digits
    logits, labels = evaluation.predict_logits(model, test, torch.device("cpu"))
    model.to(memory_format=torch.contiguous_format)
    with torch.no_grad():
        plain = model(test.images)
    assert torch.equal(labels, test.labels) and torch.allclose(logits, plain, atol=1e-5)
    assert torch.equal(logits.argmax(1), plain.argmax(1))


def test_mlp_learns_well_above_chance(digits):
    _, history = _fit(lambda: models.MLP(hidden=[128]), *digits, recipe=training.Recipe(epochs=4, batch_size=64))
    assert history.val_acc[-1] > 0.8  # 10 classes: chance is 0.1
    assert history.train_loss[-1] < history.train_loss[0]


def test_accuracy_is_counted_over_every_sample(digits):
    model = models.MLP(hidden=[16])
    _, test = digits
    loss, accuracy = evaluation.evaluate(model, data.iterate_batches(test, 128, shuffle=False), torch.device("cpu"))
    with torch.no_grad():
        logits = model(test.images)
    assert accuracy == (logits.argmax(1) == test.labels).sum().item() / 500  # 500 = 3 x 128 + 116
    assert loss == pytest.approx(torch.nn.functional.cross_entropy(logits, test.labels).item(), rel=1e-5)


def test_interrupting_returns_the_model_as_it_was_at_the_end_of_the_last_finished_epoch(digits):
    """Weights, optimizer and history agree after Ctrl-C: the run equals one stopped after that epoch."""
    recipe = training.Recipe(epochs=3, batch_size=64)
    calls = itertools.count(1)

    def augment_then_stop(images):
        if next(calls) == 16 + 3:  # the 3rd batch of the 2nd epoch (1024 / 64 = 16 batches per epoch)
            raise KeyboardInterrupt
        return images

    torch.manual_seed(0)
    interrupted, history = models.MLP(hidden=[32]), training.History()
    with pytest.raises(KeyboardInterrupt):  # it goes on to stop the cell or the program
        training.fit(
            interrupted, *digits, recipe, augment=augment_then_stop, history=history, progress=False, verbose=False
        )
    stopped, reference = _fit(
        lambda: models.MLP(hidden=[32]), *digits, recipe=recipe, augment=lambda x: x, stop_when=lambda h: h.epochs == 1
    )
    assert history.interrupted and history.epochs == 1 and history.val_acc == reference.val_acc
    for (name, value), expected in zip(interrupted.state_dict().items(), stopped.state_dict().values()):
        assert torch.equal(value, expected), name


def test_an_interrupt_between_evaluating_and_recording_an_epoch_keeps_them_in_step(digits, monkeypatch):
    """Ctrl-C can land anywhere, also while the end of an epoch is being recorded."""
    snapshot, calls = training._snapshot, itertools.count(1)

    def snapshot_then_stop(model, optimizer, epochs):
        if next(calls) == 3:  # the snapshot at the end of epoch 2 (the first is taken before epoch 1)
            raise KeyboardInterrupt
        return snapshot(model, optimizer, epochs)

    monkeypatch.setattr(training, "_snapshot", snapshot_then_stop)
    recipe = training.Recipe(epochs=3, batch_size=64)
    torch.manual_seed(0)
    model, history = models.MLP(hidden=[32]), training.History()
    with pytest.raises(KeyboardInterrupt):
        training.fit(model, *digits, recipe, history=history, progress=False, verbose=False)
    monkeypatch.undo()
    stopped, reference = _fit(
        lambda: models.MLP(hidden=[32]), *digits, recipe=recipe, stop_when=lambda h: h.epochs == 1
    )
    assert history.as_dict() == {**reference.as_dict(), "seconds": history.seconds} and history.epochs == 1
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), stopped.state_dict().values()))


def test_dataloader_path_trains_too(monkeypatch):
    monkeypatch.setattr(settings, "SMOKE", True)
    train, test = data.make_loader("mnist", "train", 64), data.make_loader("mnist", "test", 256)
    _, history = _fit(lambda: models.MLP(hidden=[64]), train, test, recipe=training.Recipe(epochs=2))
    assert history.epochs == 2 and history.val_acc[-1] > 0.5


def test_resuming_continues_the_epoch_count(digits):
    model, history = _fit(lambda: models.MLP(hidden=[32]), *digits)
    more = training.fit(
        model,
        *digits,
        training.Recipe(epochs=2, schedule="constant", lr=1e-4),
        history=history,
        progress=False,
        verbose=False,
    )
    assert more is history and history.epochs == 3


def test_bad_schedule_is_refused(digits):
    with pytest.raises(ValueError, match="unknown schedule 'cosine'"):
        _fit(models.MLP, *digits, recipe=training.Recipe(schedule="cosine"))


def test_pick_device_prefers_what_is_asked_and_refuses_what_is_not_here():
    assert hardware.pick_device("cpu").type == "cpu"
    assert hardware.pick_device(torch.device("cpu")) == torch.device("cpu")
    assert hardware.pick_device().type == ("cuda" if torch.cuda.is_available() else "cpu")  # never MPS unasked
    with pytest.raises(ValueError, match="unknown device 'quantum'; use cuda, mps or cpu"):
        hardware.pick_device("quantum")
    with pytest.raises(ValueError, match="device 'cuda:99' is not available on this machine"):
        hardware.pick_device("cuda:99")


def test_course_recipe_gives_each_model_and_dataset_its_augmentation():
    recipe, augment = recipes.course_recipe("mlp", "fashion-mnist")
    assert augment is None and recipe.lr == 2e-3
    recipe, augment = recipes.course_recipe("cnn", "fashion-mnist", epochs=3)
    assert recipe.epochs == 3 and recipe.label_smoothing == 0.1
    assert (augment.hflip, augment.max_degrees) == (True, 0.0)
    _, augment = recipes.course_recipe("cnn", "mnist")
    assert not augment.hflip and augment.max_degrees > 0  # a mirrored 2 is not a 2


def test_course_recipe_refuses_unknown_names():
    with pytest.raises(ValueError, match="unknown model 'resnet'.*mlp, cnn, plain-cnn"):
        recipes.course_recipe("resnet", "mnist")
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'"):
        recipes.course_recipe("cnn", "cifar10")


def test_resumed_optimizer_state_follows_the_model_to_its_device(tmp_path, digits):
    """A checkpoint's optimizer state loads onto the CPU; fit must put it beside the weights, wherever they are.

    Weights on the meta device stand in for weights on a GPU, so the invariant is checked without one."""
    model = models.MLP(hidden=[16])
    optimizer = torch.optim.AdamW(model.parameters())
    # trained on the CPU (not wherever pick_device would choose): the state is then where a loaded checkpoint puts it
    training.fit(model, *digits, FAST, optimizer=optimizer, device="cpu", progress=False, verbose=False)
    saved_state = optimizer.state_dict()  # as a checkpoint holds it: on the CPU
    elsewhere = models.MLP(hidden=[16]).to("meta")
    resumed = torch.optim.AdamW(elsewhere.parameters())
    for parameter, state in zip(elsewhere.parameters(), saved_state["state"].values()):
        resumed.state[parameter] = dict(state)  # what load_state_dict leaves after the model moves to a GPU
    assert next(iter(resumed.state.values()))["exp_avg"].device.type == "cpu"
    training.move_optimizer_state(resumed)
    for parameter in elsewhere.parameters():
        state = resumed.state[parameter]
        assert state["exp_avg"].device == state["exp_avg_sq"].device == parameter.device == torch.device("meta")
        assert state["step"].device.type == "cpu"  # AdamW keeps its step counter on the CPU unless capturable


def test_bf16_counts_as_fast_on_a_gpu_only_where_it_is_native(monkeypatch):
    """A T4 emulates bf16: torch.cuda.is_bf16_supported() says True unless emulation is excluded."""

    def t4(including_emulation=True):
        return including_emulation

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", t4)
    assert not hardware.bf16_is_fast(torch.device("cuda"))
    assert not hardware.bf16_is_fast(torch.device("mps"))


def test_course_precision_float32_turns_autocast_off_and_says_so(digits, monkeypatch, capsys):
    used = []
    real_autocast = hardware.autocast

    def recording_autocast(device, enabled):
        used.append(enabled)
        return real_autocast(device, enabled)

    monkeypatch.setattr(training, "autocast", recording_autocast)
    monkeypatch.setattr(hardware, "bf16_is_fast", lambda device: True)
    monkeypatch.setattr(settings, "FORCE_FLOAT32", True)
    model = models.MLP(hidden=[16])
    training.fit(model, *digits, training.Recipe(epochs=1, mixed_precision=True), progress=False)
    assert used and not any(used)
    assert "(float32, as COURSE_PRECISION=float32 asks)" in capsys.readouterr().out


def test_an_unknown_course_precision_is_one_clear_error():
    result = subprocess.run(
        [sys.executable, "-c", "import utils.guards.settings"],
        capture_output=True,
        text=True,
        env={**os.environ, "COURSE_PRECISION": "fp8"},
        cwd=settings.REPO_ROOT,
    )
    assert result.returncode != 0 and "COURSE_PRECISION='fp8' is not a setting; use auto or float32" in result.stderr


def test_fit_the_checkpoint_and_notebook_04_report_the_same_accuracy(smoke, tmp_path):
    """One evaluation function: the accuracy fit prints for its last epoch, the metrics the checkpoint records and
    what evaluation.predict computes from the reloaded model agree exactly, whatever precision trained it."""
    from utils import checkpoints, evaluation

    path = tmp_path / "cnn.pt"
    model, history = workflow.train_model("cnn", "mnist", epochs=1, save=path, progress=False)
    saved = checkpoints.load_checkpoint(path, expect_model="cnn")
    train, validation = data.validation_split(data.load_tensors("mnist", "train"))
    test = data.load_tensors("mnist", "test")
    assert evaluation.predict(saved.model, validation).accuracy == saved.metrics["val_acc"]  # with the shifts
    with models.one_view(saved.model):  # fit's check after each epoch sees each image once
        assert evaluation.predict(saved.model, validation).accuracy == history.val_acc[-1]
    assert evaluation.predict(saved.model, test).accuracy == saved.metrics["test_acc"]
    assert evaluation.predict(model, test).accuracy == saved.metrics["test_acc"]


def test_validation_split_is_stratified_disjoint_and_fixed():
    train = data.load_tensors("mnist", "train", limit=3000)
    part, validation = data.validation_split(train)
    again, _ = data.validation_split(train)
    assert len(part) + len(validation) == 3000 and len(validation) == 500
    assert torch.equal(part.images, again.images) and validation.split == "validation" and part.split == "train"
    rows = {tuple(row.tolist()) for row in part.images.flatten(1)[:, ::7]}
    assert not any(tuple(row.tolist()) in rows for row in validation.images.flatten(1)[:, ::7])
    share = validation.labels.bincount(minlength=10) / train.labels.bincount(minlength=10)
    assert torch.allclose(share, torch.full((10,), 1 / 6), atol=0.01)


def test_apples_mps_is_used_only_when_asked_for(monkeypatch):
    """For models this small MPS has not been shown to beat the CPU, and the course has not run there."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert hardware.pick_device().type == "cpu"
    assert hardware.pick_device("mps").type == "mps"
