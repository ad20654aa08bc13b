"""The GPU suite's toy mode on the CPU: every part runs, the JSON holds every figure and target, the table renders."""

import json

import pytest

from tests.conftest import ASSETS

pytestmark = pytest.mark.pipeline


def test_gpu_suite_runs_every_part_at_toy_sizes(tmp_path):
    from benchmarks.gpu_suite import main, speed_table
    from memprint.docs import fill_block

    out = tmp_path / "gpu_suite.json"
    dinov2 = ASSETS / "dinov2_vits14"
    main(
        ["--tiny", "--device", "cpu", "--cores", "2", "--out", str(out)]
        + (["--dinov2", str(dinov2)] if dinov2.exists() else [])
    )
    results = json.loads(out.read_text())
    parts = results["parts"]
    assert set(parts) == {"embedding", "ct", "search", "pipeline", "generators", "invmm"} and results["tiny"] is True
    assert parts["search"]["same_neighbours"] == 1.0 and parts["search"]["faiss_cpu_seconds"] > 0
    assert parts["embedding"]["vit_base"]["end_to_end_images_per_s"] > 0
    assert 0 < parts["embedding"]["vit_base"]["end_to_end_over_bare"] < 5
    assert parts["ct"]["all_layers_seconds"] == pytest.approx(
        parts["ct"]["reference_fit_seconds"] + parts["ct"]["scoring_seconds"]
    )
    assert parts["pipeline"]["wall_seconds"] > 0 and parts["invmm"]["seconds_per_image"] > 0
    assert {"sample_ddpm_5_images_per_s", "train_dcgan_images_per_s"} <= set(parts["generators"])
    assert [t["figure"] for t in results["targets"]] == [
        "embedding.vit_base.end_to_end_images_per_s",
        "embedding.vit_base.end_to_end_over_bare",
        "ct.all_layers_seconds",
        "pipeline.wall_seconds",
    ]
    for target in results["targets"]:  # each verdict recomputed here from the recorded figure and threshold
        relation, threshold = target["target"].split()
        expected = target["measured"] >= float(threshold) if relation == ">=" else target["measured"] < float(threshold)
        assert target["met"] is expected, target
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- gpu-suite:start -->\nold\n<!-- gpu-suite:end -->\ntail\n")
    fill_block(readme, "gpu-suite", speed_table(results))
    text = readme.read_text()
    assert "old" not in text and "| ct.all_layers_seconds |" in text and text.endswith("tail\n")


def test_gpu_suite_stops_a_part_at_the_budget_and_skips_what_cannot_start(tmp_path):
    from benchmarks.gpu_suite import main

    out = tmp_path / "gpu_suite.json"
    results = main(["--tiny", "--device", "cpu", "--parts", "pipeline", "ct", "--budget-s", "25", "--out", str(out)])
    assert results["parts"]["pipeline"]["status"].startswith("not finished within the")  # Snakemake alone takes longer
    assert results["parts"]["ct"]["status"].startswith("skipped")
    assert json.loads(out.read_text())["budget_s"] == 25
