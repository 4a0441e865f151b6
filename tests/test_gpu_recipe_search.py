"""The GPU recipe's search (``benchmarks/gpu_recipe_search.py``): its rule, fixed before the run, and the script."""

import json
import runpy

import pytest

from utils.guards import settings
from utils.machinery import results

SEARCH = settings.REPO_ROOT / "benchmarks" / "gpu_recipe_search.py"


def runs(seconds, *accuracies):
    return {str(seed): {"seconds": seconds, "val_acc": accuracy} for seed, accuracy in enumerate(accuracies)}


@pytest.fixture
def search():
    return runpy.run_path(str(SEARCH))


def measured(search, **candidates):
    """The CPU recipe at 0.990, 0.992, 0.991 on both datasets; each candidate's (seconds, accuracies) on both."""
    table = {search["CPU_RECIPE"]: {dataset: runs(15.0, 0.990, 0.992, 0.991) for dataset in search["DATASETS"]}}
    names = list(search["CANDIDATES"])
    for index, by_dataset in candidates.items():
        table[names[int(index[1:])]] = {dataset: runs(*by_dataset[dataset]) for dataset in search["DATASETS"]}
    return table


def test_the_fastest_candidate_not_worse_on_either_dataset_becomes_the_gpu_recipe(search):
    names = list(search["CANDIDATES"])
    same = (4.0, 0.9902, 0.9918, 0.9912)  # within a few images of the CPU recipe, seed by seed
    worse = (1.0, 0.985, 0.987, 0.986)  # 0.005 lower on every seed
    chosen, verdicts = search["choose"](measured(
        search,
        c0={"mnist": same, "fashion-mnist": same},
        c1={"mnist": (3.0, *same[1:]), "fashion-mnist": (3.0, *same[1:])},  # as good, and faster
        c2={"mnist": same, "fashion-mnist": worse},  # the fastest on one dataset, worse on the other
    ))
    assert chosen == names[1]
    assert verdicts[names[2]]["fashion-mnist"][1] is False and verdicts[names[2]]["mnist"][1] is True


def test_the_cpu_recipe_stays_where_every_candidate_loses_more_than_the_tolerance(search):
    # 0.002 lower on average, but noisy enough that the interval reaches 0: still more than the 0.001 allowed
    noisy = (2.0, 0.984, 0.995, 0.988)
    chosen, verdicts = search["choose"](measured(
        search, **{f"c{index}": {"mnist": noisy, "fashion-mnist": noisy} for index in range(len(search["CANDIDATES"]))}
    ))
    difference, qualifies = verdicts[list(search["CANDIDATES"])[0]]["mnist"]
    assert difference.high >= 0 and difference.mean < -search["TOLERANCE"] and not qualifies
    assert chosen == search["CPU_RECIPE"]


def test_the_search_trains_every_candidate_and_files_its_choice_in_smoke_mode(monkeypatch, capsys):
    monkeypatch.setattr(settings, "SMOKE", True)  # little data, and the result goes to build/, not the real file
    monkeypatch.setattr(settings, "SMOKE_LIMITS", {"train": 600, "test": 200})
    main = runpy.run_path(str(SEARCH))["main"]
    assert main(["--seeds", "0", "1"]) == 0
    entry = json.loads((settings.REPO_ROOT / "build" / "gpu-recipe-smoke.json").read_text())[results.machine_class()]
    assert list(entry["runs"]) == ["CPU recipe", *entry["candidates"]] and entry["chosen"] in entry["runs"]
    assert set(entry["chosen_mnist_test_acc"]) == {"0", "1"}
    assert "chosen: " in capsys.readouterr().out
    assert results.gpu_recipe_table({"a GPU": entry}).count("| mnist |") == len(entry["runs"])


def test_outside_smoke_mode_the_search_refuses_a_machine_without_a_cuda_gpu(monkeypatch, capsys):
    search = runpy.run_path(str(SEARCH))
    monkeypatch.setitem(search["main"].__globals__, "hardware", type("NoGpu", (), {
        "pick_device": staticmethod(lambda: __import__("torch").device("cpu"))}))
    monkeypatch.setattr(settings, "SMOKE", False)
    with pytest.raises(SystemExit) as stopped:
        search["main"]([])
    assert stopped.value.code == 2
    assert "there is none here (cpu)" in capsys.readouterr().err
