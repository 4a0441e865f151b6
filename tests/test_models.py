import pytest
import torch

from utils import models, recipes


def test_cnn_is_the_reference_architecture():
    cnn = models.CNN()
    assert cnn(torch.zeros(4, 1, 28, 28)).shape == (4, 10)
    trace = dict((shape, layer) for layer, shape in models.shape_trace(cnn))
    assert (1, 32, 14, 14) in trace and (1, 64, 7, 7) in trace and (1, 3136) in trace
    conv1, bn1 = 32 * 1 * 9 + 32, 2 * 32
    conv2, bn2 = 64 * 32 * 9 + 64, 2 * 64
    fc1, fc2 = 3136 * 128 + 128, 128 * 10 + 10
    assert models.count_parameters(cnn) == conv1 + bn1 + conv2 + bn2 + fc1 + fc2
    kinds = [type(m).__name__ for m in cnn.modules() if not list(m.children())]
    assert kinds == [
        "Conv2d",
        "BatchNorm2d",
        "ReLU",
        "MaxPool2d",
        "Conv2d",
        "BatchNorm2d",
        "ReLU",
        "MaxPool2d",
        "Flatten",
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
    ]


def test_plain_cnn_has_no_batchnorm_and_a_1600_wide_flatten():
    plain = models.PlainCNN()
    assert plain(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert (1, 1600) in [shape for _, shape in models.shape_trace(plain)]
    assert not any(isinstance(m, torch.nn.BatchNorm2d | torch.nn.Dropout) for m in plain.modules())


def test_the_ablation_steps_change_one_thing_each():
    plain = models.CNN(padding=0, batchnorm=False, fc_dropout=0.0)
    assert models.count_parameters(plain) == models.count_parameters(models.PlainCNN()) == 225_034
    padded = models.CNN(batchnorm=False, fc_dropout=0.0)
    assert (1, 3136) in [shape for _, shape in models.shape_trace(padded)]
    with_bn = models.CNN(fc_dropout=0.0)
    assert models.count_parameters(with_bn) - models.count_parameters(padded) == 2 * (32 + 64)
    assert sum(isinstance(m, torch.nn.Dropout) for m in models.CNN().modules()) == 1


def mirror(images):
    return [images.flip(-1)]


def one_pixel_moves(images):  # exact where the border is blank, as in a digit
    return [images.roll(step, dims=dim) for dim in (-2, -1) for step in (1, -1)]


@pytest.mark.parametrize("view, other_views", [("test_time_flips", mirror), ("test_time_shifts", one_pixel_moves)])
def test_test_time_views_average_each_image_with_its_views_in_eval_mode_only(view, other_views):
    torch.manual_seed(0)
    averaging = models.CNN(**{view: True})
    plain = models.CNN()
    plain.load_state_dict(averaging.state_dict())
    images = torch.zeros(6, 1, 28, 28)
    images[:, :, 10:18, 12:17] = torch.rand(6, 1, 8, 5)  # a stroke with a blank border, off centre
    with torch.no_grad():
        averaging.eval(), plain.eval()
        expected = torch.stack([plain(image) for image in [images, *other_views(images)]]).mean(dim=0)
        assert torch.allclose(averaging(images), expected, atol=1e-6)
        assert not torch.allclose(plain(images), expected, atol=1e-3)  # a view does change a plain CNN's answer
        torch.manual_seed(1)
        trained_on = averaging.train()(images)
        torch.manual_seed(1)
        assert torch.equal(trained_on, plain.train()(images))  # training sees each image as it is


def test_the_course_cnn_averages_over_views_that_keep_the_class():
    fashion, digits = recipes.course_model("cnn", "fashion-mnist"), recipes.course_model("cnn", "mnist")
    assert fashion.test_time_flips and not fashion.test_time_shifts
    assert digits.test_time_shifts and not digits.test_time_flips  # a mirrored 2 is not a 2
    assert isinstance(recipes.course_model("mlp", "fashion-mnist"), models.MLP)


def test_mlp_hidden_layers_are_configurable():
    one = models.MLP(hidden=[64])
    assert models.count_parameters(one) == 784 * 64 + 64 + 64 * 10 + 10
    deep = models.MLP(hidden=[256, 128, 100])
    assert sum(isinstance(m, torch.nn.Linear) for m in deep.modules()) == 4
    assert deep(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_build_model_round_trips_the_config():
    original = models.MLP(hidden=[32, 16], dropout=0.1)
    rebuilt = models.build_model(models.model_name(original), **original.config)
    assert type(rebuilt) is models.MLP and rebuilt.config == original.config


def test_unknown_model_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown model 'resnet'.*mlp, cnn, plain-cnn"):
        models.build_model("resnet")


def test_shape_trace_leaves_the_training_mode_alone():
    cnn = models.CNN().train()
    models.shape_trace(cnn)
    assert cnn.training


def trained_looking(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` with BatchNorm statistics, scales and shifts far from their defaults, in eval mode."""
    torch.manual_seed(0)
    with torch.no_grad():
        model.train()(torch.randn(64, 1, 28, 28) * 3 + 1)  # running means and variances move
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(-2, 2), module.bias.uniform_(-1, 1)  # negative scales too
    return model.eval()


@pytest.mark.parametrize("views", [{}, {"test_time_shifts": True}, {"test_time_flips": True}])
def test_for_inference_gives_the_same_predictions_without_batchnorm_and_leaves_the_model_alone(views):
    model = trained_looking(models.CNN(**views))
    before = {name: value.clone() for name, value in model.state_dict().items()}
    fast = models.for_inference(model)
    assert not any(isinstance(module, torch.nn.BatchNorm2d) for module in fast.modules())
    layers = [type(layer).__name__ for layer in fast.features]
    assert layers == ["Conv2d", "MaxPool2d", "ReLU", "Conv2d", "MaxPool2d", "ReLU"]
    images = torch.randn(32, 1, 28, 28)
    with torch.no_grad():
        expected, got = model(images), fast(images)
    assert torch.allclose(got, expected, atol=1e-5) and torch.equal(got.argmax(1), expected.argmax(1))
    assert sum(isinstance(module, torch.nn.BatchNorm2d) for module in model.modules()) == 2
    assert all(torch.equal(value, before[name]) for name, value in model.state_dict().items())


def test_moving_the_max_pool_before_the_relu_changes_no_logit():
    plain = models.PlainCNN().eval()  # no BatchNorm: only the order of max-pool and ReLU changes
    images = torch.randn(16, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(models.for_inference(plain)(images), plain(images))


def test_for_inference_returns_other_models_and_training_mode_as_they_are():
    mlp, training = models.MLP().eval(), models.CNN().train()
    assert models.for_inference(mlp) is mlp and models.for_inference(training) is training
