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
    "results/imagesets/kde_0.1.h5",
    "results/embeddings/vit_tiny/kde_0.1.h5",
    "results/scores/ct/vit_tiny/kde_0.1.csv",
    "results/fingerprint/ct/vit_tiny/curves/kde_0.1.csv",
    "results/fingerprint/statistics.csv",
    "results/fingerprint/classifiers/cnn.csv",
    "results/fingerprint/matches.csv",
    "results/fingerprint/table1.csv",
    "results/fingerprint/table1.md",
    "results/fingerprint/open_set.csv",
    "results/fingerprint/vit_tiny/intra_minus_inter.csv",
    "results/generators/summary.csv",
    "results/scores/bai_code/vit_tiny/kde_0.1.csv",
    "results/scores/ct/vit_tiny/kde_0.1.bootstrap.h5",
    "results/scores/bai_code/vit_tiny/kde_0.1.bootstrap.h5",
    "results/fingerprint/bai_code/vit_tiny/curves/kde_0.1.csv",
    "results/claims/vit_tiny.csv",
    "results/claims/vit_tiny.md",
    "results/embeddings/vit_tiny/transformed/hflip/kde_0.1.h5",
    "results/copies/vit_tiny/kde_0.1.csv",
    "results/copies/vit_tiny/kde_0.1.images.csv",
    "results/copies/vit_tiny/kde_0.1.flagged.csv",
    "results/copies/vit_tiny/rates.csv",
    "results/copies/vit_tiny/kinds.csv",
} | {
    f"results/figures/{fig}.{ext}"
    for fig in (
        "vit_tiny/ct_curves",
        "vit_tiny/curve_similarity",
        "vit_tiny/scores",
        "sample_grid",
        "fingerprint_confusion",
        "fingerprint_open_set",
        "vit_tiny/copy_rates",
        "vit_tiny/copy_kinds",
        "vit_tiny/copied_pairs",
        "vit_tiny/copies/kde_0.1",
    )
    for ext in ("png", "pdf")
}


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
    for path in [
        "results/fingerprint/table1.md",
        "results/figures/vit_tiny/ct_curves.png",
        "results/figures/fingerprint_confusion.pdf",
        "results/figures/fingerprint_open_set.png",
        "results/figures/vit_tiny/scores.png",
        "results/figures/sample_grid.pdf",
        "results/scores/bai_code/vit_tiny/copier.csv",
        "results/segmenter/quality.json",
        "results/imagesets/fg_noise.h5",
        "results/figures/vit_tiny/ct_curves.pdf",
        "results/figures/vit_tiny/curve_similarity.pdf",
        "results/embeddings/vit_tiny/copier.h5",
        "results/encoders/vit_tiny/training.json",
    ]:
        assert (workdir / path).stat().st_size > 0, path
    assert not list(workdir.glob("results/**/*.tmp"))
    table = pd.read_csv(workdir / "results/fingerprint/table1.csv", comment="#")
    closed = table[table["evaluation"] == "closed set"]
    # 6 generators x 2 splits per reference size (100, 200); the classifier trains on one split
    methods = {"ct-layer (vit_tiny)", "bai_code-layer (vit_tiny)", "statistics (mean, std, FID)", "classifier (cnn)"}
    assert set(closed["method"]) == methods
    assert (closed.loc[closed["method"] != "classifier (cnn)", "targets"] == 12).all()
    assert (closed.loc[closed["method"] == "classifier (cnn)", "targets"] == 6).all()
    assert ((closed["ci_low"] <= closed["accuracy"]) & (closed["accuracy"] <= closed["ci_high"])).all()
    assert (table["wall_seconds_one_split"] > 0).all()
    lomo = table[table["evaluation"] == "leave one model out"]
    assert (lomo["targets"] == 6).all()  # only the three kde runs have a sibling to be matched to


def test_claims_table_gives_every_claim_a_computed_verdict_under_both_settings(finished_run):
    from memprint.claims import verdict

    workdir, _ = finished_run
    claims = pd.read_csv(workdir / "results/claims/vit_tiny.csv", comment="#")
    assert claims["setting"].str.split(" ").str[0].value_counts().to_dict() == {"ct": 7, "bai_code": 7}
    for row in claims.itertuples():
        if row.verdict != "not applicable":
            assert row.ci_low <= row.ci_high
            assert row.verdict == verdict(row.ci_low, row.ci_high, 1 if row.claimed_sign == ">0" else -1)
    kde = claims[claims["claim"].str.startswith("Meehan")]
    assert (kde["verdict"] == "confirmed").all() and (kde["generators"] == "kde_0.02, kde_0.1, kde_0.4").all()
    assert set(claims.loc[claims["id"] == "shift_low_level", "verdict"]) == {"not applicable"}
    curve = pd.read_csv(workdir / "results/scores/ct/vit_tiny/kde_0.1.csv", comment="#")
    assert ((curve["low"] <= curve["value"]) & (curve["value"] <= curve["high"])).all()
    assert "| **confirmed** |" in (workdir / "results/claims/vit_tiny.md").read_text()


def test_copy_finder_flags_the_copier_with_its_sources_and_lists_them_for_the_auditor(finished_run):
    workdir, _ = finished_run
    images = pd.read_csv(workdir / "results/copies/vit_tiny/copier.images.csv", comment="#")
    assert images["copy"].mean() > 0.95 and (images.loc[images["copy"], "distance"] < 1e-3).mean() > 0.9
    flagged = pd.read_csv(workdir / "results/copies/vit_tiny/copier.flagged.csv", comment="#")
    assert len(flagged) == images["copy"].sum() and flagged["image_p"].is_monotonic_increasing
    rates = pd.read_csv(workdir / "results/copies/vit_tiny/rates.csv", comment="#")
    image_level = rates[rates["layer_name"] == "any (image level)"].set_index("generator")
    assert image_level.loc["copier", "ci_low"] > 0.9 > image_level.loc["kde_0.4", "ci_high"]


def test_kde_bandwidth_sweep_reproduces_meehan_at_last_layer(finished_run):
    workdir, _ = finished_run
    last = {}
    for name in ("copier", "kde_0.02", "kde_0.1", "kde_0.4"):
        curve = pd.read_csv(workdir / f"results/scores/ct/vit_tiny/{name}.csv", comment="#")
        assert len(curve) == 3 and curve["layer_name"].tolist() == ["patch_embed", "blocks.00", "blocks.01"]
        last[name] = curve["value"].iloc[-1]
    assert last["copier"] < -2 and last["kde_0.02"] < -2
    assert last["kde_0.02"] < last["kde_0.1"] < last["kde_0.4"] and last["kde_0.4"] > 0


def test_nothing_to_do_after_a_run_and_an_edit_reruns_only_downstream(finished_run):
    workdir, config = finished_run
    assert "Nothing to be done" in snakemake(workdir, config, "-n").stdout
    dry = snakemake(workdir, edit_bandwidth(config, workdir / "edited.yaml"), "-n")
    assert dry.returncode == 0, dry.stderr
    assert job_outputs(dry.stdout) == AFTER_EDITING_KDE_01


def test_without_fingerprint_and_claims_sections_only_scores_copies_and_figures_are_planned(tmp_path):
    cfg = yaml.safe_load(TINY.read_text())
    del cfg["fingerprint"], cfg["claims"]
    config = tmp_path / "lean.yaml"
    config.write_text(yaml.safe_dump(cfg))
    result = snakemake(tmp_path, config, "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stderr[-3000:]
    rules = set(re.findall(r"^(\w+)\s+\d+$", result.stdout, re.MULTILINE)) - {"total"}
    assert not {r for r in rules if r.startswith("fingerprint") or r == "claims"}, rules
    assert {"score_curve", "find_copies", "figure_ct_curves", "figure_copies", "auditor_page"} <= rules


def test_four_train_shards_plan_four_embedding_jobs_for_t_and_one_gather(tmp_path):
    cfg = yaml.safe_load(TINY.read_text())
    cfg.setdefault("runtime", {})["train_shards"] = 4
    config = tmp_path / "sharded.yaml"
    config.write_text(yaml.safe_dump(cfg))
    result = snakemake(tmp_path, config, "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.MULTILINE))
    assert counts["embed_shard"] == "4" and counts["gather_train_shards"] == "1"
    plain = snakemake(tmp_path, TINY, "-n", "--quiet", "rules")
    assert int(counts["embed"]) == int(dict(re.findall(r"^(\w+)\s+(\d+)$", plain.stdout, re.MULTILINE))["embed"]) - 1


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["ct"].update(cellz=3), r"config error at ct: Additional properties .*'cellz'"),
        (
            lambda c: c["generators"]["kde_0.1"].update(bandwidth="wide"),
            r"config error at generators.kde_0.1.bandwidth: 'wide' is not of type 'number'",
        ),
        (
            lambda c: c["encoders"].update(
                clip={"kind": "open_clip", "name": "ViT-B-32", "weights": "/no/such/file.pt"}
            ),
            r"config error at encoders.clip.weights: file or folder /no/such/file.pt not found; fix the path",
        ),
    ],
)
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
    for caption in (
        "C_T-layer curves of every generator",
        "Table 1 of Bai et al.",
        "Confusion matrices",
        "Open-set rejection",
        "Checkpoint heatmap",
        "Paper figure 5 analog",
        "Paper figure 4 analog",
    ):
        assert caption in html, caption


@pytest.mark.parametrize(
    "name, jobs",
    [
        (
            "paper_table1",
            {
                "train_zoo_model": 12,
                "sample_shard": 18,
                "score_curve": 18,
                "fingerprint_classifier": 3,
                "fetch_classifier_weights": 2,
                "fetch_encoder_weights": 1,
            },
        ),
        (
            "cifar10_zoo",
            {"train_zoo_model": 15, "sample_shard": 42, "score_curve": 43, "fingerprint_classifier": 1},
        ),
        (
            "cifar10_augment",
            {
                "sample_generator": 6,
                "train_segmenter": 1,
                "score_curve": 6,
                "score_reference": 1,
                "figure_scores": 1,
                "figure_sample_grid": 1,
            },
        ),
        (
            "cifar10_cpu",
            {
                "train_zoo_model": 1,
                "sample_shard": 2,
                "sample_generator": 15,
                "fetch_published_samples": 9,
                "embed": 17,
                "embed_transformed": 16,
                "score_curve": 15,
                "find_copies": 15,
                "fingerprint_curve": 12,
                "train_segmenter": 1,
                "claims": 1,
                "publish_results": 1,
            },
        ),
        (
            "cifar10_input_size",
            {"sample_generator": 6, "embed": 2 * 8, "score_reference": 2, "score_curve": 2 * 6, "claims": 2},
        ),
        (
            "cifar10_gpu",
            {
                "train_zoo_model": 12,
                "sample_shard": 24,
                "embed": 2 * 36,
                "score_curve": 2 * 34,
                "claims": 2,
                "copies_validation": 2,
                "fetch_encoder_weights": 1,
                "publish_results": 0,
            },
        ),
        (
            "copies_validation",  # Q and P mirrored (5 sets); T cropped, turned twice and compressed (4)
            {"embed_transformed": 5 + 4, "find_copies": 4, "copies_validation": 1, "auditor_page": 4},
        ),
        (
            "invmm_duplicates",
            {
                "train_zoo_model": 1,
                "invmm_shard": 1,
                "invmm_table": 1,
                "figure_invmm": 1,
                "figure_invmm_scores": 1,
                "invmm_side_by_side": 1,
                "find_copies": 1,
                "score_curve": 1,
                "fingerprint_table": 0,
            },
        ),
    ],
)
def test_shipped_gpu_configs_plan_their_dag(tmp_path, name, jobs):
    """The GPU configs validate and plan the expected jobs (data swapped for digits, assets for stand-ins)."""
    cfg = yaml.safe_load((TINY.parents[2] / "configs" / f"{name}.yaml").read_text())
    cfg["data"] = {"source": "digits", **{k: cfg["data"][k] for k in ("duplicates", "heldout") if k in cfg["data"]}}
    if cfg.get("fid", {}).get("inception"):
        (tmp_path / "inception.pt").write_bytes(b"stand-in: a dry run does not load it")
        cfg["fid"]["inception"] = str(tmp_path / "inception.pt")
    for spec in cfg["generators"].values():  # published samples: downloaded by their pinned URLs (planned only)
        if "manifest" in spec:
            spec.pop("folder", None)
            spec["manifest"] = str(TINY.parents[2] / spec["manifest"])
    for spec in cfg["encoders"].values():
        if spec["weights"] not in ("pretrained", "random"):
            local = TINY.parents[2] / spec["weights"]
            spec["weights"] = str(local.resolve()) if local.exists() else "random"
        if spec["kind"] == "hf" and spec["name"].startswith("."):  # the asset folder, or the hub id it stands for
            local = TINY.parents[2] / spec["name"]
            spec["name"] = str(local.resolve()) if local.exists() else "facebook/dinov2-small"
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump(cfg))
    result = snakemake(tmp_path, config, "--replace-workflow-config", "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.MULTILINE))
    for rule, count in jobs.items():
        assert int(counts.get(rule, 0)) == count, (rule, counts)
