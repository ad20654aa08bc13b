"""Bai et al.'s published per-layer curves are read as data: named-list text files and the lists of a plotting
script (parsed, never run), only the series the manifest names, after the hash check."""

import hashlib

import pytest

from memprint import MemprintError
from memprint.paper_curves import assigned_lists, named_lists, read_paper_curves


def test_named_lists_keep_order_and_repeats():
    text = "GAN [0.5, -1.0, 2]\nnoise line\nDDPM [1, 2]\nGAN [3.0, 4.0]\n"
    assert named_lists(text) == [("GAN", [0.5, -1.0, 2.0]), ("DDPM", [1.0, 2.0]), ("GAN", [3.0, 4.0])]


def test_assigned_lists_read_numbers_without_running_the_script():
    source = "import os\nos.remove('/nonexistent')\nvit_base = [1.0, 2.5]\nx = np.arange(3)\nlabels = ['a']\n"
    assert assigned_lists(source) == {"vit_base": [1.0, 2.5]}


def test_manifest_picks_series_checks_hashes_and_numbers_blocks(tmp_path):
    folder = tmp_path / "mirror"
    repo = folder / "someone" / "code"
    (repo / "plot").mkdir(parents=True)
    (repo / "scores.txt").write_text("m1 [0.1, 0.2, 0.3]\nm2 [1, 2, 3]\nm1 [9, 9, 9]\n")
    (repo / "plot" / "p.py").write_text("dino = [-1.0, 0.0]\nother = [5.0]\n")
    manifest = {
        "repository": "someone/code",
        "commit": "0" * 40,
        "files": {
            "scores.txt": {
                "sha256": hashlib.sha256((repo / "scores.txt").read_bytes()).hexdigest(),
                "series": {"m1": "vit", "m1#1": "vit-l"},
            },
            "plot/p.py": {
                "sha256": hashlib.sha256((repo / "plot" / "p.py").read_bytes()).hexdigest(),
                "series": {"dino": "dino-s"},
            },
        },
    }
    table = read_paper_curves(manifest, folder)
    assert table.groupby(["series", "occurrence", "encoder"])["value"].apply(list).to_dict() == {
        ("dino", 0, "dino-s"): [-1.0, 0.0],
        ("m1", 0, "vit"): [0.1, 0.2, 0.3],
        ("m1", 1, "vit-l"): [9.0, 9.0, 9.0],
    }
    assert table["block"].min() == 1
    (repo / "scores.txt").write_text("m1 [0.1, 0.2, 0.4]\n")
    with pytest.raises(MemprintError, match="SHA-256 differs"):
        read_paper_curves(manifest, folder)
