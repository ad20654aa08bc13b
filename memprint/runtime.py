"""Where and how a job runs, none of which changes a result: the device (one free GPU per job), bf16 autocast,
the job's log file, and the config's ``runtime:`` settings that a workflow script reads.

torch is imported inside the functions, so light modules (the config loader, the Snakefile) can import this.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from memprint import MemprintError

DEVICE_PATTERN = r"^(auto|cpu|cuda(:[0-9]+)?)$"
_held_gpu = None  # (index, open lock file) of the GPU this process claimed; released when the process exits


def start_log(path: str) -> None:
    """Send this process's stderr (warnings, tracebacks, tqdm) and logging to the job's log file."""
    sys.stderr = open(path, "w", buffering=1)  # noqa: SIM115 - lives as long as the process
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def _claim_free_gpu(count: int) -> int:
    """With several visible GPUs, take the first one no other memprint job holds (one job per card); a process
    keeps the card it claimed."""
    global _held_gpu
    import fcntl
    import tempfile

    if _held_gpu is not None:
        return _held_gpu[0]
    for index in range(count):
        handle = open(Path(tempfile.gettempdir()) / f"memprint-gpu-{index}.lock", "w")  # noqa: SIM115 - held
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _held_gpu = (index, handle)
        return index
    raise MemprintError(
        f"all {count} GPUs are held by other memprint jobs; limit GPU jobs with --resources gpu={count}"
    )


def resolve_device(name: str = "auto"):
    """``auto``: a free CUDA GPU when there is one (SLURM shows each job only its own), else the CPU."""
    import torch

    if isinstance(name, torch.device):
        return name
    if not re.match(DEVICE_PATTERN, str(name)):
        raise MemprintError(f"device {name!r} is unknown; use auto, cpu, cuda or cuda:N")
    if name == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        count = torch.cuda.device_count()
        return torch.device(f"cuda:{_claim_free_gpu(count) if count > 1 else 0}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise MemprintError(f"device {name!r} asked for, but no CUDA GPU is visible; use device: auto or cpu")
    return torch.device(name)


def bf16_autocast(device):
    """bf16 autocast on CUDA; a no-op elsewhere (CPU runs in float32)."""
    import torch

    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


@dataclass(frozen=True)
class Runtime:
    """The config's ``runtime:`` section (schema defaults filled): how a job runs, never what it computes."""

    device: str
    batch_size: int
    compile: bool
    invmm_batch_size: int


def job(snakemake) -> Runtime:
    """Set up a workflow script's process (log file, the rule's threads) and hand it the runtime settings.

    The runtime settings are read from the config, not from ``params``: changing them must rerun nothing.
    Threads are set through the environment when torch is not imported yet (jobs without torch stay light).
    """
    import importlib
    import os

    from memprint.config import section_defaults

    start_log(snakemake.log[0])
    for module in snakemake.config.get("plugins", []):  # kinds defined outside memprint register on import
        importlib.import_module(module)
    threads = str(max(1, snakemake.threads))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(threads))
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = threads

    return Runtime(**{**section_defaults("runtime"), **snakemake.config.get("runtime", {})})
