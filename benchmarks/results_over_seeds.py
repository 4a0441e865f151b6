"""The course's results over several seeds: each headline configuration and notebook 03's ablation, trained on
50,000 training images, judged on the 10,000 held out (``data.validation_split``), the test set measured once
per final model. Writes mean ± std material to ``benchmarks/results/seeds.json`` (``utils.machinery.results`` reads it).

    python benchmarks/results_over_seeds.py                       # everything, seeds 0-4 (two to three hours)
    python benchmarks/results_over_seeds.py --only cnn-mnist-all --seeds 0 1 2

A verdict (one configuration against another, or with and without test-time views) needs at least 5 seeds; the
final models, only quoted, have 3.

Run nothing else meanwhile: two PyTorch processes on two cores slow each other down many times over, and the
file records training seconds. Runs already in the file are kept unless they are run again.
"""

from __future__ import annotations

import argparse
import datetime
from dataclasses import replace

import torch

from utils import data, evaluation, hardware, recipes, training
from utils.guards import settings
from utils.machinery import results, workflow
from utils.models import CNN, MLP

FLIP = data.Augment("fashion-mnist", max_degrees=0.0, max_shift=0.0, hflip=True)
ABLATION_RECIPE = replace(recipes.course_recipe("plain-cnn", "fashion-mnist")[0], epochs=10)  # one recipe for all
CONFIGS = {
    # key: (description, dataset, model factory, recipe, augmentation)
    "mlp-fashion": (
        "MLP 256-128, Fashion-MNIST, 10 epochs",
        "fashion-mnist",
        MLP,
        *recipes.course_recipe("mlp", "fashion-mnist"),
    ),
    "mlp-mnist": ("MLP 256-128, MNIST, 10 epochs", "mnist", MLP, *recipes.course_recipe("mlp", "mnist")),
    "cnn-fashion-15": (
        "BN-CNN with test-time flips, Fashion-MNIST, 15 epochs",
        "fashion-mnist",
        lambda: recipes.course_model("cnn", "fashion-mnist"),
        *recipes.course_recipe("cnn", "fashion-mnist", 15),
    ),
    "cnn-fashion-15-all": (
        "BN-CNN with test-time flips, Fashion-MNIST, 15 epochs, final: all 60,000 training images",
        "fashion-mnist",
        lambda: recipes.course_model("cnn", "fashion-mnist"),
        *recipes.course_recipe("cnn", "fashion-mnist", 15),
    ),
    "cnn-mnist": (
        "BN-CNN with test-time shifts, MNIST, 10 epochs",
        "mnist",
        lambda: recipes.course_model("cnn", "mnist"),
        *recipes.course_recipe("cnn", "mnist"),
    ),
    "cnn-mnist-15": (
        "BN-CNN with test-time shifts, MNIST, 15 epochs",
        "mnist",
        lambda: recipes.course_model("cnn", "mnist"),
        *recipes.course_recipe("cnn", "mnist", 15),
    ),
    "cnn-mnist-20": (
        "BN-CNN without test-time shifts, MNIST, 20 epochs",
        "mnist",
        CNN,
        *recipes.course_recipe("cnn", "mnist", 20),
    ),
    # final models: every training image, settings chosen on the validation split above
    "mlp-fashion-all": (
        "MLP 256-128, Fashion-MNIST, 10 epochs, final: all 60,000 training images",
        "fashion-mnist",
        MLP,
        *recipes.course_recipe("mlp", "fashion-mnist"),
    ),
    "mlp-mnist-all": (
        "MLP 256-128, MNIST, 10 epochs, final: all 60,000 training images",
        "mnist",
        MLP,
        *recipes.course_recipe("mlp", "mnist"),
    ),
    "cnn-mnist-15-all": (
        "BN-CNN with test-time shifts, MNIST, 15 epochs, final: all 60,000 training images",
        "mnist",
        lambda: recipes.course_model("cnn", "mnist"),
        *recipes.course_recipe("cnn", "mnist", 15),
    ),
    # notebook 03's ablation on Fashion-MNIST: one change per step, one recipe (the plain CNN's: peak lr 3e-3)
    "ablation-plain": (
        "plain CNN (no padding, BatchNorm or dropout)",
        "fashion-mnist",
        lambda: CNN(padding=0, batchnorm=False, fc_dropout=0.0),
        ABLATION_RECIPE,
        FLIP,
    ),
    "ablation-padding": (
        "+ padding",
        "fashion-mnist",
        lambda: CNN(batchnorm=False, fc_dropout=0.0),
        ABLATION_RECIPE,
        FLIP,
    ),
    "ablation-batchnorm": ("+ BatchNorm", "fashion-mnist", lambda: CNN(fc_dropout=0.0), ABLATION_RECIPE, FLIP),
    "ablation-dropout": ("+ dropout 0.2 (the BN-CNN)", "fashion-mnist", CNN, ABLATION_RECIPE, FLIP),
    "ablation-lr": ("+ peak learning rate 5e-3", "fashion-mnist", CNN, replace(ABLATION_RECIPE, lr=5e-3), FLIP),
    "ablation-batch": (
        "+ batch 64 (the BN-CNN's recipe)",
        "fashion-mnist",
        CNN,
        *recipes.course_recipe("cnn", "fashion-mnist", 10),
    ),
    "ablation-flips": (
        "+ test-time flips",
        "fashion-mnist",
        lambda: recipes.course_model("cnn", "fashion-mnist"),
        *recipes.course_recipe("cnn", "fashion-mnist", 10),
    ),
}


def run(key: str, seed: int) -> dict:
    """Train one configuration with one seed; a key ending in ``-all`` is a final model trained on every training
    image with settings chosen on the validation split (its validation accuracy is then not a measurement)."""
    description, dataset, factory, recipe, augment = CONFIGS[key]
    everything = data.load_tensors(dataset, "train")
    train, validation = data.validation_split(everything)
    if key.endswith("-all"):
        train = everything
    test = data.load_tensors(dataset, "test")
    torch.manual_seed(seed)
    model = factory()
    history = training.fit(model, train, validation, recipe, augment=augment, seed=seed, progress=False, verbose=False)
    device = hardware.pick_device()
    final = workflow.final_metrics(model, validation, test, device)
    _, train_acc = evaluation.evaluate(model, train.to(device), device)
    record = {
        "val_acc": None if key.endswith("-all") else final["val_acc"],
        "test_acc": final["test_acc"],
        "train_acc": train_acc,
        "seconds": sum(history.seconds),
        "val_curve": history.val_acc,  # fit checks each image once per epoch; "val_acc" is with the views
    }
    views = [view for view in ("flips", "shifts") if getattr(model, f"test_time_{view}", False)]
    if views and not key.endswith("-all"):
        for view in views:  # the same weights, asked about each image once: what the test-time views are worth
            setattr(model, f"test_time_{view}", False)
        record["val_acc_each_image_once"] = evaluation.evaluate(model, validation.to(device), device)[1]
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--only", nargs="+", choices=list(CONFIGS), metavar="KEY", help="default: every one")
    args = parser.parse_args()
    # smoke mode (COURSE_SMOKE=1) checks the script on little data: it must not overwrite the real results
    path = settings.REPO_ROOT / "build" / "seeds-smoke.json" if settings.SMOKE else results.RESULTS_FILE
    saved = results.load(path)
    machine = results.describe_hardware()
    print(machine)
    for key in args.only or CONFIGS:
        entry = saved["runs"].setdefault(key, {"seeds": {}})
        entry["description"] = CONFIGS[key][0]
        for seed in args.seeds:
            record = run(key, seed)
            entry["seeds"][str(seed)] = record
            validation = "—" if record["val_acc"] is None else f"{record['val_acc']:.4f}"
            print(
                f"{key:<20} seed {seed}: val {validation}  test {record['test_acc']:.4f}  "
                f"train (eval mode) {record['train_acc']:.4f}  {record['seconds']:.0f} s",
                flush=True,
            )
            saved["hardware"] = machine
            saved["date"] = datetime.date.today().isoformat()
            results.write(path, saved)  # after every run: nothing lost
    for title, keys in (("Headline results", results.HEADLINE), ("Notebook 03's ablation", results.ABLATION)):
        present = [key for key in keys if key in saved["runs"]]
        if present:
            print(f"\n{title} (mean ± std over seeds)\n{results.markdown_table(present, saved)}")


if __name__ == "__main__":
    main()
