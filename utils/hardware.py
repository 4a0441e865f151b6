"""The machine a model trains on: which device to use and which arithmetic it runs fast (notebook 06 explains).

``pick_device`` chooses CUDA, else the CPU; Apple's MPS only when asked for (``pick_device("mps")``). ``uses_bf16``
is the course's one rule for mixed precision: bfloat16 where the hardware runs it natively, float32 elsewhere or when
``COURSE_PRECISION=float32``.
"""

from __future__ import annotations

import contextlib

import torch

from utils.guards import settings


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """CUDA if there is a CUDA GPU, else the CPU; or ``preferred`` (``"mps"`` for Apple's GPU), if it is here.

    Apple's MPS is not picked by itself: for models this small it has not been shown to beat the CPU, and the course
    has not run there. Notebook 06's step 6 measures it on your Mac.
    """
    available = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(), "cpu": True}
    if not preferred:
        return torch.device("cuda" if available["cuda"] else "cpu")
    try:
        device = torch.device(preferred)
    except (RuntimeError, TypeError):
        device = None
    if device is None or device.type not in available:
        raise ValueError(f"unknown device {str(preferred)!r}; use cuda, mps or cpu (or leave it out for the fastest)")
    count = torch.cuda.device_count() if device.type == "cuda" else 1
    if not available[device.type] or (device.index or 0) >= count:
        raise ValueError(f"device {str(preferred)!r} is not available on this machine; use cpu, or leave it out")
    return device


def bf16_is_fast(device: torch.device) -> bool:
    """Whether this hardware runs bfloat16 natively: NVIDIA GPUs from Ampere on, CPUs with AVX512-BF16 or AMX.

    Elsewhere (a T4 GPU, most laptop CPUs, Apple's MPS) bf16 is emulated and slower than float32.
    """
    if device.type == "cuda":
        try:
            return torch.cuda.is_bf16_supported(including_emulation=False)
        except TypeError:  # PyTorch before 2.4 counts emulation as support: ask for Ampere (8.0) or newer
            return torch.cuda.get_device_capability(device)[0] >= 8
    if device.type == "cpu":
        checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in checks)
    return False


def uses_bf16(device: torch.device, setting: str | bool = "auto") -> bool:
    """The course's one precision rule: train in bf16 autocast where the hardware runs it natively (``"auto"``, a
    recipe's default) or where a recipe asks for it (``True``), and never when ``COURSE_PRECISION=float32``."""
    wanted = bf16_is_fast(device) if setting == "auto" else bool(setting)
    return wanted and not settings.FORCE_FLOAT32


def describe_precision(device: torch.device, mixed: bool) -> str:
    """Which arithmetic a training uses, and why, for its first line."""
    if mixed:
        return "bf16 autocast"
    if settings.FORCE_FLOAT32:
        return "float32, as COURSE_PRECISION=float32 asks"
    return "float32" if not bf16_is_fast(device) else "float32, as the recipe asks"


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """Mixed precision (bfloat16) where ``enabled``; a no-op context otherwise."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16) if enabled else contextlib.nullcontext()
