"""Where and how a job runs: the device (one free GPU per job), the numeric precision (bf16 autocast where the
hardware has bf16 units), the job's log file, and the config's ``runtime:`` settings that a workflow script reads.
Device, batch size and workers never change a result; precision does, so rules pass it as a param.

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
_precision = "auto"  # this process's numeric precision (a job sets it from its rule's params)
SEARCHES = ("auto", "faiss", "torch")
_search = "auto"  # this process's nearest-neighbour engine (a job sets it from the config's runtime section)


def start_log(path: str) -> None:
    """Send this process's stderr (warnings, tracebacks, tqdm) and logging to the job's log file. A MemprintError,
    a failed write or Ctrl-C ends the job with one line there (what Snakemake shows on the console), not a
    traceback; any other error keeps its traceback: it is a bug."""
    sys.stderr = open(path, "w", buffering=1)  # noqa: SIM115 - lives as long as the process
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    sys.excepthook = _one_line_for_known_errors


def _one_line_for_known_errors(kind, error, trace) -> None:
    if isinstance(error, KeyboardInterrupt):  # Ctrl-C reaches every job of the process group: not a bug
        print("memprint: interrupted (Ctrl-C); rerun to go on where it stopped", file=sys.stderr)
    elif isinstance(error, MemprintError):
        print(f"memprint: error: {error}", file=sys.stderr)
    elif isinstance(error, OSError) and error.errno is not None:
        from memprint.outputs import write_failed

        print(f"memprint: error: {write_failed(error.filename or '?', error)}", file=sys.stderr)
    else:
        sys.__excepthook__(kind, error, trace)


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


PRECISIONS = ("auto", "float32", "bf16")


def has_bf16_units(device) -> bool:
    """bf16 matrix units: a CUDA GPU that supports bf16, or a CPU with AMX tiles or AVX-512 BF16. On a CPU without
    them bf16 is emulated and several times slower than float32 (measured in ``benchmarks/precision.py``)."""
    import torch

    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    return False


def _known(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise MemprintError(f"{what} {value!r} is unknown; use one of {', '.join(allowed)}")
    return value


def resolve_precision(precision: str, device) -> str:
    """``auto``: bf16 where the device has bf16 units, else float32; ``float32`` and ``bf16`` as asked."""
    if _known(precision, PRECISIONS, "precision") == "auto":
        return "bf16" if has_bf16_units(device) else "float32"
    return precision


def set_precision(precision: str) -> None:
    """This process's precision for every ``autocast`` (``auto``, ``float32`` or ``bf16``)."""
    global _precision
    _precision = _known(precision, PRECISIONS, "precision")


def set_search(backend: str) -> None:
    """This process's nearest-neighbour engine (``runtime.search``): ``auto``, ``faiss`` or ``torch``; every one
    is exact and gives the same neighbours (``memprint.search``)."""
    global _search
    _search = _known(backend, SEARCHES, "search backend")


def search_setting() -> str:
    return _search


def precision_used(device) -> str:
    """What ``autocast`` runs on ``device`` in this process, for provenance: ``bf16`` or ``float32``."""
    return resolve_precision(_precision, device)


def autocast(device):
    """bf16 autocast when this process's precision resolves to bf16 on ``device``, else a no-op (float32)."""
    import torch

    enabled = precision_used(device) == "bf16"
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


@dataclass(frozen=True)
class Runtime:
    """The config's ``runtime:`` section (schema defaults filled): how a job runs, never what it computes."""

    device: str
    batch_size: int
    compile: bool
    invmm_batch_size: int
    precision: str
    train_shards: int
    search: str


def job(snakemake) -> Runtime:
    """Set up a workflow script's process (log file, the rule's threads) and hand it the runtime settings.

    The runtime settings are read from the config, not from ``params``: changing them must rerun nothing.
    Threads are set through the environment when torch is not imported yet (jobs without torch stay light).
    """
    import importlib
    import os

    from memprint.schema import section_defaults

    start_log(snakemake.log[0])
    set_precision(snakemake.params.get("precision", "auto"))  # a param: it changes numbers, so it reruns jobs
    for module in snakemake.config.get("plugins", []):  # kinds defined outside memprint register on import
        importlib.import_module(module)
    threads = str(max(1, snakemake.threads))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(threads))
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = threads

    settings = Runtime(**{**section_defaults("runtime"), **snakemake.config.get("runtime", {})})
    set_search(settings.search)
    return settings
