"""The Snakemake DAG end to end on a tiny config: outputs, Meehan's KDE result, reruns, config errors."""

import re

import pandas as pd
import pytest
import yaml

from tests.conftest import TINY_CONFIG as TINY
from tests.conftest import snakemake

pytestmark = pytest.mark.pipeline

# What editing kde_0.1's bandwidth must rerun: its own jobs and what sits downstream of them, nothing else.
AFTER_EDITING_KDE_01 = {
    "results/imagesets/kde_0.1.h5", "results/embeddings/vit_tiny/kde_0.1.h5", "results/ct/vit_tiny/kde_0.1.csv",
    "results/fingerprint/vit_tiny/curves/kde_0.1.csv", "results/fingerprint/matches.csv",
    "results/fingerprint/summary.csv", "results/generators/summary.csv"} | {
    f"results/figures/vit_tiny/{fig}.{ext}" for fig in ("ct_curves", "curve_similarity") for ext in ("png", "pdf")}


def job_outputs(snakemake_log: str) -> set[str]:
    """Output files of the jobs a (dry) run lists."""
    outputs = set()
    for line in snakemake_log.splitlines():
        match = re.match(r"\s+output: (.*)", line)
        if match:
            outputs.update(part.strip() for part in match.group(1).split(","))
    return outputs


def edit_bandwidth(config, out, bandwidth=0.15):
    cfg = yaml.safe_load(config.read_text())
    cfg["generators"]["kde_0.1"]["bandwidth"] = bandwidth
    out.write_text(yaml.safe_dump(cfg))
    return out


@pytest.fixture(scope="module")
def finished_run(tiny_local_run):
    return tiny_local_run


def test_every_output_is_written(finished_run):
    workdir, _ = finished_run
    for path in ["results/fingerprint/summary.csv", "results/figures/vit_tiny/ct_curves.png",
                 "results/segmenter/quality.json", "results/imagesets/fg_noise.h5",
                 "results/figures/vit_tiny/ct_curves.pdf", "results/figures/vit_tiny/curve_similarity.pdf",
                 "results/embeddings/vit_tiny/copier.h5", "results/encoders/vit_tiny/training.json"]:
        assert (workdir / path).stat().st_size > 0, path
    assert not list(workdir.glob("results/**/*.tmp"))
    summary = pd.read_csv(workdir / "results/fingerprint/summary.csv", comment="#")
    assert set(summary["method"]) == {"l2", "cosine", "combined"} and (summary["targets"] == 12).all()


def test_kde_bandwidth_sweep_reproduces_meehan_at_last_layer(finished_run):
    workdir, _ = finished_run
    last = {}
    for name in ("copier", "kde_0.02", "kde_0.1", "kde_0.4"):
        curve = pd.read_csv(workdir / f"results/ct/vit_tiny/{name}.csv", comment="#")
        assert len(curve) == 3 and curve["layer_name"].tolist() == ["patch_embed", "blocks.00", "blocks.01"]
        last[name] = curve["ct"].iloc[-1]
    assert last["copier"] < -2 and last["kde_0.02"] < -2
    assert last["kde_0.02"] < last["kde_0.1"] < last["kde_0.4"] and last["kde_0.4"] > 0


def test_nothing_to_do_after_a_run_and_an_edit_reruns_only_downstream(finished_run):
    workdir, config = finished_run
    assert "Nothing to be done" in snakemake(workdir, config, "-n").stdout
    dry = snakemake(workdir, edit_bandwidth(config, workdir / "edited.yaml"), "-n")
    assert dry.returncode == 0, dry.stderr
    assert job_outputs(dry.stdout) == AFTER_EDITING_KDE_01


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["ct"].update(cellz=3), r"config error at ct: Additional properties .*'cellz'"),
    (lambda c: c["generators"]["kde_0.1"].update(bandwidth="wide"), r"config error at generators.kde_0.1.bandwidth: 'wide' is not of type 'number'"),
    (lambda c: c["encoders"].update(clip={"kind": "open_clip", "name": "ViT-B-32", "weights": "/no/such/file.pt"}),
     r"config error at encoders.clip.weights: file /no/such/file.pt not found"),
])
def test_bad_config_stops_before_any_job_with_one_line(tmp_path, edit, message):
    cfg = yaml.safe_load(TINY.read_text())
    edit(cfg)
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(cfg))
    result = snakemake(tmp_path, config, "-n")
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("config error")]
    assert len(lines) == 1 and re.search(message, lines[0]), result.stderr
    assert not (tmp_path / "results").exists()


def test_html_report_gathers_figures_with_captions(finished_run):
    workdir, config = finished_run
    result = snakemake(workdir, config, "--report", str(workdir / "report.html"))
    assert result.returncode == 0, result.stderr[-2000:]
    html = (workdir / "report.html").read_text(errors="replace")
    assert "C_T-layer curves of every generator" in html and "Fingerprinting accuracy" in html
