import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO.parent / "shared" / "assets"
TINY_CONFIG = REPO / "tests" / "configs" / "tiny.yaml"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


def snakemake(workdir: Path, config: Path, *args: str, **popen) -> subprocess.CompletedProcess:
    """Run the repository's workflow in ``workdir`` with ``config`` (``args`` may hold targets: the config file
    goes last, since ``--configfile`` takes every word after it)."""
    cores = [] if "--profile" in args or "--cores" in args else ["--cores", "2"]
    command = ["snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir), *cores, *args]
    command += ["--configfile", str(config)]
    return subprocess.run(command, capture_output=True, text=True, **popen)


@pytest.fixture(scope="session")
def tiny_local_run(tmp_path_factory):
    """One uninterrupted local run of the tiny config, the reference other runs are compared with."""
    workdir = tmp_path_factory.mktemp("local_run")
    config = workdir / "config.yaml"
    shutil.copy(TINY_CONFIG, config)
    result = snakemake(workdir, config)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir, config


def _without_timings(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=[c for c in table.columns if "seconds" in c or "per_second" in c])


def assert_same_results(a: Path, b: Path) -> None:
    """Every C_T and fingerprint CSV (wall-time columns aside) and every embedding file of run ``b`` equals
    run ``a``'s."""
    import h5py

    csvs = sorted(p.relative_to(a) for p in a.glob("results/**/*.csv"))
    assert csvs and csvs == sorted(p.relative_to(b) for p in b.glob("results/**/*.csv"))
    for rel in csvs:
        left, right = (_without_timings(pd.read_csv(run / rel, comment="#")) for run in (a, b))
        pd.testing.assert_frame_equal(left, right, obj=str(rel))
    embeddings = sorted(p.relative_to(a) for p in a.glob("results/embeddings/**/*.h5"))
    assert embeddings == sorted(p.relative_to(b) for p in b.glob("results/embeddings/**/*.h5"))
    for rel in embeddings:
        with h5py.File(a / rel, "r", locking=False) as fa, h5py.File(b / rel, "r", locking=False) as fb:
            assert fb.attrs["complete"]
            for name in fa["layers"]:
                np.testing.assert_array_equal(fa["layers"][name][()], fb["layers"][name][()], err_msg=f"{rel}:{name}")
    assert not list(b.glob("results/**/*.tmp"))
