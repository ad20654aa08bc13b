"""Reruns follow the code that made a result: an edit of a library function reruns exactly the jobs whose
script can import it (and what depends on them); touching a file without changing it reruns nothing."""

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, snakemake

pytestmark = pytest.mark.pipeline


def _copy_code(target: Path) -> Path:
    """The workflow and its library in a scratch folder (so an edit touches no other test)."""
    target.mkdir()
    for name in ("Snakefile", "rules", "workflow_scripts", "memprint", "profiles", "report", "envs"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target / name)
    return target / "Snakefile"


def _planned(workdir: Path, snakefile: Path, config: Path) -> dict[str, int]:
    result = snakemake(workdir, config, "-n", "--snakefile", str(snakefile))
    assert result.returncode == 0, result.stderr[-2000:]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.M) if rule != "total"}


def test_a_library_edit_reruns_its_jobs_and_a_touch_reruns_nothing(tiny_local_run, tmp_path):
    local_dir, config = tiny_local_run
    workdir = tmp_path / "run"
    shutil.copytree(local_dir, workdir, symlinks=True)
    snakefile = _copy_code(tmp_path / "code")
    assert _planned(workdir, snakefile, config) == {}, "a copy of the same code must rerun nothing"

    (snakefile.parent / "workflow_scripts" / "make_data.py").touch()
    (snakefile.parent / "memprint" / "ct.py").touch()
    assert _planned(workdir, snakefile, config) == {}, "touching files must rerun nothing"

    library = snakefile.parent / "memprint" / "cells.py"  # the nearest-neighbour search behind C_T
    library.write_text(library.read_text() + "\n\ndef _an_edit():\n    return None\n")
    planned = _planned(workdir, snakefile, config)
    assert {"score_reference", "score_curve", "claims", "figure_ct_curves"} <= set(planned)
    untouched = {"make_data", "sample_generator", "train_encoder", "embed", "train_segmenter", "fingerprint_classifier"}
    assert not untouched & set(planned), f"jobs that cannot run the edited code were planned: {planned}"
