import pytest
import torch

from utils import config, data, models, training

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
    assert first.train_loss == second.train_loss and first.test_acc == second.test_acc


def test_mlp_learns_well_above_chance(digits):
    _, history = _fit(lambda: models.MLP(hidden=[128]), *digits, recipe=training.Recipe(epochs=4, batch_size=64))
    assert history.test_acc[-1] > 0.8  # 10 classes: chance is 0.1
    assert history.train_loss[-1] < history.train_loss[0]


def test_accuracy_is_counted_over_every_sample(digits):
    model = models.MLP(hidden=[16])
    _, test = digits
    loss, accuracy = training.evaluate(
        model, data.iterate_batches(test, 128, shuffle=False), torch.nn.CrossEntropyLoss(), torch.device("cpu")
    )
    with torch.no_grad():
        logits = model(test.images)
    assert accuracy == (logits.argmax(1) == test.labels).sum().item() / 500  # 500 = 3 x 128 + 116
    assert loss == pytest.approx(torch.nn.functional.cross_entropy(logits, test.labels).item(), rel=1e-5)


def test_interrupting_keeps_the_model_and_the_history(digits):
    calls = {"count": 0}

    def augment_then_stop(images):
        calls["count"] += 1
        if calls["count"] == 16 + 3:  # the 3rd batch of the 2nd epoch (1024 / 64 = 16 batches per epoch)
            raise KeyboardInterrupt
        return images

    torch.manual_seed(0)
    model = models.MLP(hidden=[32])
    before = [p.detach().clone() for p in model.parameters()]
    history = training.fit(
        model,
        *digits,
        training.Recipe(epochs=5, batch_size=64),
        augment=augment_then_stop,
        progress=False,
        verbose=False,
    )
    assert history.interrupted and history.epochs == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_dataloader_path_trains_too(monkeypatch):
    monkeypatch.setattr(config, "SMOKE", True)
    train, test = data.make_loader("mnist", "train", 64), data.make_loader("mnist", "test", 256)
    _, history = _fit(lambda: models.MLP(hidden=[64]), train, test, recipe=training.Recipe(epochs=2))
    assert history.epochs == 2 and history.test_acc[-1] > 0.5


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


def test_pick_device_prefers_what_is_asked():
    assert training.pick_device("cpu").type == "cpu"
    assert training.pick_device().type in ("cuda", "mps", "cpu")


def test_course_recipe_gives_each_model_and_dataset_its_augmentation():
    recipe, augment = training.course_recipe("mlp", "fashion-mnist")
    assert augment is None and recipe.lr == 2e-3
    recipe, augment = training.course_recipe("cnn", "fashion-mnist", epochs=3)
    assert recipe.epochs == 3 and recipe.label_smoothing == 0.1
    assert (augment.hflip, augment.max_degrees) == (True, 0.0)
    _, augment = training.course_recipe("cnn", "mnist")
    assert not augment.hflip and augment.max_degrees > 0  # a mirrored 2 is not a 2


def test_course_recipe_refuses_unknown_names():
    with pytest.raises(ValueError, match="unknown model 'resnet'.*mlp, cnn, plain-cnn"):
        training.course_recipe("resnet", "mnist")
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'"):
        training.course_recipe("cnn", "cifar10")
