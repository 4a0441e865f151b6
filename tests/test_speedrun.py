"""The speedrun (``benchmarks/speedrun.py``): each step adds one trick, compared seed by seed with the step before."""

import json
import runpy
from dataclasses import replace

from utils.guards import settings
from utils.machinery import results

SPEEDRUN = settings.REPO_ROOT / "benchmarks" / "speedrun.py"


def seeds(*seconds):
    return {str(seed): {"seconds": value, "epochs": 2, "val_acc": 0.991, "test_acc": 0.990}
            for seed, value in enumerate(seconds)}


def test_a_step_is_faster_only_where_the_interval_of_the_paired_change_excludes_zero():
    saved = {"a cpu": {"steps": [
        {"step": "textbook", "seeds": seeds(100.0, 110.0, 105.0)},
        {"step": "+ tensors", "seeds": seeds(60.0, 66.0, 62.0)},  # about 42 s faster in every seed
        {"step": "+ noise", "seeds": seeds(70.0, 55.0, 64.0)},  # faster in one seed, slower in two
        {"step": "+ too far", "seeds": seeds(None, None, None)},
    ]}}
    rows = results.speedrun_table(saved).splitlines()[2:]
    assert rows[0].startswith("| a cpu | textbook | 3 of 3 | 105.0 (")
    assert rows[1].endswith(", 3 seeds): faster |") and "-42.3 s" in rows[1]
    assert rows[2].endswith("cannot tell apart with 3 seeds |")
    assert "| 0 of 3 | — |" in rows[3]


def test_the_speedrun_runs_every_step_this_machine_has_and_files_its_result(monkeypatch):
    monkeypatch.setattr(settings, "SMOKE", True)  # little data, and the result goes to build/, not the real file
    monkeypatch.setattr(settings, "SMOKE_LIMITS", {"train": 600, "test": 200})
    namespace = runpy.run_path(str(SPEEDRUN))
    main, module_globals = namespace["main"], namespace["main"].__globals__
    module_globals["TEXTBOOK"] = replace(module_globals["TEXTBOOK"], epochs=1)
    assert main(["--seeds", "0"]) == 0
    saved = json.loads((settings.REPO_ROOT / "build" / "speedrun-smoke.json").read_text())
    steps = [step["step"] for step in saved[results.machine_class()]["steps"]]
    assert steps[0].startswith("textbook") and steps[1].startswith("+ one-cycle") and "+ channels_last" in steps
    hardware = module_globals["hardware"]
    device = hardware.pick_device()  # on a GPU the steps are named for it, with a GPU's batch and torch.compile
    assert steps[2] == f"+ tensors on the {device.type}"
    assert steps[3].startswith("+ batch 512" if device.type == "cuda" else "+ batch 128")
    assert ("+ bf16 autocast" in steps) == hardware.uses_bf16(device)
    assert ("+ torch.compile" in steps) == (device.type == "cuda")
