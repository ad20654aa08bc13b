"""The tiny config through a real one-node SLURM cluster with the repository's SLURM profile.

Checks that the results equal a local run's, that every job went through sbatch (the controller's log), and that
a second submission after editing one generator submits only that generator's jobs and those downstream.
"""

import os
import re
import shutil

import pytest
import yaml

from tests import slurm_cluster
from tests.conftest import REPO, assert_same_results, snakemake
from tests.test_pipeline import AFTER_EDITING_KDE_01, edit_bandwidth, job_outputs

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        log = slurm_cluster.start(tmp_path_factory.mktemp("slurm"))
    except slurm_cluster.Unavailable as why:
        if os.environ.get("CI"):
            raise  # CI must run this test, never skip it
        pytest.skip(f"no SLURM test cluster here: {why}")
    yield log
    slurm_cluster.stop()


def site_profile(tmp_path):
    """The repository's SLURM profile with only its marked site-specific lines filled in for the test cluster."""
    text = (REPO / "profiles/slurm/config.yaml").read_text()
    gpu_rules = [
        rule
        for rule, resources in yaml.safe_load(text)["set-resources"].items()
        if resources.get("slurm_partition") == "YOUR_GPU_PARTITION"
    ]
    text = text.replace('  slurm_account: "YOUR_ACCOUNT"', "").replace("YOUR_CPU_PARTITION", "debug")
    text = text.replace("YOUR_GPU_PARTITION", "debug")
    profile = yaml.safe_load(text)
    for rule in gpu_rules:
        profile["set-resources"][rule]["gpu"] = 0  # the test node has no GPU gres
    profile.update(
        {"slurm-no-account": True, "slurm-status-command": "squeue", "slurm-init-seconds-before-status-checks": 2}
    )
    folder = tmp_path / "profile"
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(profile))
    return folder


def submitted(snakemake_output: str) -> list[int]:
    return [int(i) for i in re.findall(r"submitted with SLURM jobid (\d+)", snakemake_output)]


def test_slurm_run_equals_local_and_resubmits_only_what_changed(cluster, tiny_local_run, tmp_path):
    local_dir, config = tiny_local_run
    workdir = tmp_path / "run"
    workdir.mkdir()
    shutil.copy(config, workdir / "config.yaml")
    profile = site_profile(tmp_path)

    before = set(slurm_cluster.submitted_job_ids(cluster))
    first = snakemake(workdir, workdir / "config.yaml", "--profile", str(profile))
    assert first.returncode == 0, first.stderr[-4000:]
    jobs = submitted(first.stderr)
    assert jobs and set(jobs) == set(slurm_cluster.submitted_job_ids(cluster)) - before
    assert "group_small_cpu" in first.stderr or "group_sampling" in first.stderr  # small jobs went bundled
    assert_same_results(local_dir, workdir)

    before = set(slurm_cluster.submitted_job_ids(cluster))
    second = snakemake(workdir, edit_bandwidth(config, workdir / "edited.yaml"), "--profile", str(profile))
    assert second.returncode == 0, second.stderr[-4000:]
    assert job_outputs(second.stderr) == AFTER_EDITING_KDE_01
    assert set(submitted(second.stderr)) == set(slurm_cluster.submitted_job_ids(cluster)) - before


def test_every_gpu_rule_is_sent_to_the_gpu_partition():
    """A rule that asks for gpu=1 but is missing from the profile's GPU block would queue on the CPU partition."""
    import re

    text = "\n".join(path.read_text() for path in sorted((REPO / "rules").glob("*.smk")))
    gpu_rules = {
        name
        for name, body in re.findall(r"^rule (\w+):\n((?:[ \t].*\n|\n)*)", text, re.MULTILINE)
        if re.search(r"^\s+gpu=1,", body, re.MULTILINE)
    }
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    on_gpu_partition = {
        rule
        for rule, resources in profile["set-resources"].items()
        if resources.get("slurm_partition") == "YOUR_GPU_PARTITION"
    }
    assert gpu_rules and gpu_rules == on_gpu_partition
