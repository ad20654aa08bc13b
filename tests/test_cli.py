"""The memprint CLI: `memprint ct` prints one JSON object; errors are one line."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd


def run(*args):
    return subprocess.run([sys.executable, "-m", "memprint.cli", *args], capture_output=True, text=True)


def test_ct_on_npy_prints_json(tmp_path, rng):
    centers = rng.normal(0, 5, (3, 6))
    for name, n in (("T", 600), ("P", 300), ("Q", 300)):
        np.save(tmp_path / f"{name}.npy", (centers[rng.integers(0, 3, n)] + rng.normal(size=(n, 6))).astype(np.float32))
    out = run(
        "ct",
        "--train",
        str(tmp_path / "T.npy"),
        "--test",
        str(tmp_path / "P.npy"),
        "--generated",
        str(tmp_path / "Q.npy"),
        "--cells",
        "3",
        "--seed",
        "1",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert {"ct", "cells_used", "z_per_cell"} <= set(result) and abs(result["ct"]) < 3 and result["cells_used"] == 3


def test_ct_missing_file_is_one_line_error(tmp_path):
    out = run("ct", "--train", str(tmp_path / "nope.npy"), "--test", "x.npy", "--generated", "y.npy", "--cells", "3")
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0 and "nope.npy" in out.stderr


def test_invmm_scores_an_image_set_under_a_unet_folder(tmp_path, rng):
    import torch

    from memprint.io import ImageSet, write_imageset
    from tests.test_invmm import tiny_unet

    torch.manual_seed(0)
    tiny_unet().save_pretrained(tmp_path / "unet")
    write_imageset(
        tmp_path / "set.h5",
        ImageSet(
            rng.integers(0, 256, (3, 8, 8, 1), dtype=np.uint8), np.zeros(3), np.array(["a", "b", "c"], dtype=object), {}
        ),
    )
    out = run(
        "invmm",
        "--model",
        str(tmp_path / "unet"),
        "--images",
        str(tmp_path / "set.h5"),
        "--out",
        str(tmp_path / "scores.csv"),
        "--limit",
        "2",
        "--max-steps",
        "2",
        "--ddim-steps",
        "2",
        "--device",
        "cpu",
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["images"] == 2
    scores = pd.read_csv(tmp_path / "scores.csv", comment="#")
    assert set(scores["image_id"]) < {"a", "b", "c"} and scores["steps"].tolist() == [2, 2]  # a seeded subset of 2


def test_every_option_of_every_command_says_what_it_does():
    from memprint.cli.parser import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    silent = [
        f"{name} {action.option_strings[0]}"
        for name, command in commands.items()
        for action in command._actions
        if action.option_strings and action.option_strings[0] != "-h" and not action.help
    ]
    assert not silent, silent
