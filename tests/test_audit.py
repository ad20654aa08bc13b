"""``memprint audit`` end to end on tiny folders of PNG digits with the small encoder the pipeline trains: one
command from folders to a report, and a summary whose numbers are the pipeline's own CSVs."""

import json
import os

import numpy as np
import pytest
import yaml
from PIL import Image
from sklearn.datasets import load_digits

from memprint.cli.main import main
from memprint.io import read_csv

pytestmark = pytest.mark.pipeline


def _write(folder, images, labels=None):
    for i, image in enumerate(images):
        sub = folder / (f"class_{labels[i]}" if labels is not None else "")
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(sub / f"{i:04d}.png")
    return str(folder)


def _digits_16px():
    """scikit-learn's digits in 0..255, doubled to 16 x 16 (the tiny ViT's input)."""
    digits = load_digits()
    return digits, np.repeat(np.repeat((digits.images * 255 / 16).astype(np.uint8), 2, axis=1), 2, axis=2)


def _tiny_vit(path, epochs: int):
    """An encoder YAML of a small ViT the pipeline trains on T."""
    spec = {"kind": "trained_vit", "image_size": 16, "patch": 4, "width": 32, "depth": 2, "heads": 2}
    path.write_text(yaml.safe_dump({**spec, "epochs": epochs, "lr": 0.002, "batch_size": 32, "seed": 0}))
    return path


def test_audit_from_folders_to_report_and_a_summary_that_matches_the_csvs(tmp_path, capsys, monkeypatch):
    """Run as the README writes it (a relative --out); then a generated folder changed in place reruns exactly
    its own jobs and changes its numbers."""
    monkeypatch.chdir(tmp_path)
    digits, images = _digits_16px()
    order = np.random.default_rng(0).permutation(len(images))
    train, test, fresh = order[:900], order[900:1300], order[1300:1600]
    encoder = _tiny_vit(tmp_path / "vit_tiny.yaml", epochs=4)
    out = tmp_path / "audit"
    fresh_folder = _write(tmp_path / "fresh", images[fresh])
    argv = [
        "audit",
        "--train",
        _write(tmp_path / "train", images[train], digits.target[train]),
        "--test",
        _write(tmp_path / "test", images[test], digits.target[test]),
        "--generated",
        "copier=" + _write(tmp_path / "copies", images[train[:200]]),
        "--generated",
        fresh_folder,
        "--encoder",
        str(encoder),
        "--cells",
        "3",
        "--out",
        "audit",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert (out / "report.html").stat().st_size > 0 and (out / "config.yaml").is_file()
    result = json.loads((out / "summary.json").read_text())
    assert set(result) == {"copier", "fresh"}
    for name, entry in result.items():
        curve = read_csv(out / f"results/scores/ct/vit_tiny/{name}.csv")
        assert [row["value"] for row in entry["ct"]] == pytest.approx(curve["value"].tolist())
        rates = read_csv(out / "results/copies/vit_tiny/rates.csv")
        row = rates[(rates["generator"] == name) & rates["layer"].isna()].iloc[0]
        assert entry["copy_rate"]["copy_rate"] == pytest.approx(row["copy_rate"])
        assert f"## {name}" in printed
        assert entry["calibration_images"] == 400 and entry["smallest_p"] == pytest.approx(1 / 401)
    assert "P's 400 images allow p-values down to 0.0025" in printed
    assert result["copier"]["copy_rate"]["ci_low"] > 0.9 > result["fresh"]["copy_rate"]["ci_high"]
    assert result["copier"]["ct_min"]["high"] < -2
    assert not (out / "results/fingerprint/table1.md").exists() and not (out / "results/claims").exists()
    # a second audit into the same folder reruns nothing and prints the same summary
    assert main(argv) == 0 and json.loads((out / "summary.json").read_text()) == result
    # the fresh images overwritten in place by training images: the fresh set reruns, the copier does not
    timings = out / "results/benchmarks/find_copies/vit_tiny"
    copier_run = (timings / "copier.tsv").stat().st_mtime_ns
    fresh_run = (timings / "fresh.tsv").stat().st_mtime_ns
    for k, path in enumerate(sorted((tmp_path / "fresh").glob("*.png"))[:100]):
        Image.fromarray(images[train[300 + k]]).save(path)
    assert main(argv) == 0
    changed = json.loads((out / "summary.json").read_text())
    assert (timings / "copier.tsv").stat().st_mtime_ns == copier_run
    assert (timings / "fresh.tsv").stat().st_mtime_ns > fresh_run
    assert changed["copier"] == result["copier"]
    assert int(changed["fresh"]["copy_rate"]["copies"]) >= int(result["fresh"]["copy_rate"]["copies"]) + 50


def test_a_test_folder_too_small_for_the_level_stops_before_any_job(tmp_path, capsys):
    digits = load_digits()
    images = (digits.images * 255 / 16).astype(np.uint8)
    argv = [
        "audit",
        "--train",
        _write(tmp_path / "train", images[:300]),
        "--test",
        _write(tmp_path / "test", images[300:348]),
    ]
    argv += [
        "--generated",
        _write(tmp_path / "g", images[:60]),
        "--encoder",
        "facebook/dinov2-small",
        "--out",
        str(tmp_path / "a"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "P holds 48 images" in err and "at least 99 images" in err, err
    assert not (tmp_path / "a").exists()


def test_an_audit_folder_locked_by_an_interrupted_run_says_how_to_clear_it_before_any_job(tmp_path, capsys):
    digits = load_digits()
    images = (digits.images * 255 / 16).astype(np.uint8)
    out = tmp_path / "a"
    (out / ".snakemake" / "locks").mkdir(parents=True)
    (out / ".snakemake" / "locks" / "0.input.lock").write_text("")
    (out / "config.yaml").write_text("# written by memprint audit\n")
    argv = ["audit", "--train", _write(tmp_path / "train", images[:300])]
    argv += ["--test", _write(tmp_path / "test", images[300:420]), "--generated", _write(tmp_path / "g", images[:60])]
    argv += ["--encoder", "facebook/dinov2-small", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "locked by a run that did not finish" in err and err.endswith("--unlock"), err
    assert sorted(p.name for p in out.iterdir()) == [".snakemake", "config.yaml"]


def test_ctrl_c_in_an_audit_is_one_line_that_says_how_to_go_on(tmp_path):
    import signal
    import subprocess
    import time

    digits, images = _digits_16px()
    encoder = _tiny_vit(tmp_path / "vit.yaml", epochs=50)  # trains long enough to be interrupted mid-training
    labels = digits.target
    argv = ["memprint", "audit", "--train", _write(tmp_path / "train", images[:600], labels[:600])]
    test = _write(tmp_path / "test", images[600:800], labels[600:800])
    argv += ["--test", test, "--generated", _write(tmp_path / "g", images[:60])]
    argv += ["--encoder", str(encoder), "--cells", "3", "--cores", "1", "--out", str(tmp_path / "a")]
    audit = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 120
    while audit.poll() is None and not list((tmp_path / "a").glob("logs/train_encoder/*")) and time.time() < deadline:
        time.sleep(0.5)
    os.killpg(audit.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: to the audit and its Snakemake
    _, err = audit.communicate(timeout=120)
    assert audit.returncode == 2, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("memprint: error: interrupted; rerun"), (
        err
    )
