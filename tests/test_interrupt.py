"""SIGKILL the Snakemake run (and its job processes) while an embedding is being written, rerun, compare."""

import os
import shutil
import signal
import subprocess
import time

import pytest

from tests.conftest import REPO, assert_same_results, snakemake

pytestmark = pytest.mark.pipeline


def test_killed_run_resumes_to_identical_results_without_corrupt_files(tiny_local_run, tmp_path):
    local_dir, config = tiny_local_run
    shutil.copy(config, tmp_path / "config.yaml")
    command = [
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(tmp_path / "config.yaml"),
        "--cores",
        "2",
    ]
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    embeddings = tmp_path / "results" / "embeddings"
    half_written = []
    deadline = time.time() + 600
    while run.poll() is None and time.time() < deadline and not half_written:
        half_written = list(embeddings.glob("*/*.h5.tmp"))
        time.sleep(0.01)
    os.killpg(run.pid, signal.SIGKILL)  # Snakemake and the jobs it started, as a crash would
    run.wait()
    assert half_written, "the run ended before any embedding was being written; nothing was interrupted"

    assert snakemake(tmp_path, tmp_path / "config.yaml", "--unlock").returncode == 0
    rerun = snakemake(tmp_path, tmp_path / "config.yaml", "--rerun-incomplete")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert_same_results(local_dir, tmp_path)
