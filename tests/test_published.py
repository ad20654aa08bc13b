"""Published models' samples: a manifest entry (repository, commit, path, hash, grid) -> an image set, checked
on a synthetic grid made here the way torchvision's make_grid lays one out."""

import hashlib

import numpy as np
import pytest
import yaml
from PIL import Image

from memprint import MemprintError
from memprint.generators import generator
from memprint.published import import_models, read_manifest

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def make_grid(tiles: np.ndarray, columns: int, padding: int, pad_value: int = 128) -> np.ndarray:
    rows, tile = len(tiles) // columns, tiles.shape[1]
    step = tile + padding
    picture = np.full((rows * step + padding, columns * step + padding, 3), pad_value, np.uint8)
    for k, image in enumerate(tiles):
        r, c = divmod(k, columns)
        picture[padding + r * step : padding + r * step + tile, padding + c * step : padding + c * step + tile] = image
    return picture


@pytest.fixture
def published(tmp_path, rng):
    """A folder holding two models' grids (2x3 with padding, 2x2 without) and their manifest."""
    tiles = {
        "gan_a": rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8),
        "ddpm_b": rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8),
    }
    geometry = {"gan_a": (2, 3, 2), "ddpm_b": (2, 2, 0)}
    models = {}
    for name, images in tiles.items():
        rows, columns, padding = geometry[name]
        path = tmp_path / "folder" / "someone" / f"repo_{name}" / "images" / "samples.png"
        path.parent.mkdir(parents=True)
        Image.fromarray(make_grid(images, columns, padding)).save(path)
        models[name] = {
            "repository": f"someone/repo_{name}",
            "commit": COMMIT,
            "path": "images/samples.png",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "family": "gan" if name == "gan_a" else "diffusion",
            "licence": "MIT",
            "grid": {"rows": rows, "columns": columns, "tile": 8, "padding": padding},
        }
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({"models": models}, sort_keys=False))
    return manifest, tmp_path / "folder", tiles


def test_grids_become_the_tiles_in_row_major_order(published):
    manifest, folder, tiles = published
    grids = list(read_manifest(manifest).values())
    pooled = import_models(grids, [g.local(folder) for g in grids], "pooled")
    np.testing.assert_array_equal(pooled.images, np.concatenate([tiles["gan_a"], tiles["ddpm_b"]]))
    assert pooled.image_ids.tolist()[:2] == ["gan_a/0", "gan_a/1"] and (pooled.labels == -1).all()
    record = pooled.attrs["published"][0]
    assert record["url"] == f"https://raw.githubusercontent.com/someone/repo_gan_a/{COMMIT}/images/samples.png"
    assert record["licence"] == "MIT" and record["sha256"] == grids[0].sha256


def test_published_kind_pools_its_models_from_a_folder(published):
    manifest, folder, tiles = published
    kind = generator(
        "pub", {"kind": "published", "manifest": str(manifest), "models": ["ddpm_b"], "folder": str(folder)}
    )
    kind.check({})
    assert kind.samples == 4 and kind.family == "diffusion" and kind.downloads() == {}
    np.testing.assert_array_equal(kind.sample().images, tiles["ddpm_b"])
    online = generator("pub", {"kind": "published", "manifest": str(manifest)})
    assert sorted(online.downloads()) == sorted(online.input_files()["grids"])
    assert all(path.startswith("results/downloads/published/") for path in online.grid_files())


def test_a_wrong_hash_or_geometry_is_one_clear_error(published, tmp_path):
    manifest, folder, _ = published
    entry = yaml.safe_load(manifest.read_text())
    entry["models"]["gan_a"]["sha256"] = "0" * 64
    bad = tmp_path / "bad_hash.yaml"
    bad.write_text(yaml.safe_dump(entry, sort_keys=False))
    kind = generator("pub", {"kind": "published", "manifest": str(bad), "folder": str(folder)})
    with pytest.raises(MemprintError, match="is not the manifest's"):
        kind.check({})
    entry = yaml.safe_load(manifest.read_text())
    entry["models"]["gan_a"]["grid"]["padding"] = 0  # right size cannot be met: the picture is 32x22
    entry["models"]["gan_a"]["grid"].update(rows=2, columns=3, tile=8)
    bad.write_text(yaml.safe_dump(entry, sort_keys=False))
    grids = list(read_manifest(bad).values())
    with pytest.raises(MemprintError, match="fix the manifest's grid"):
        import_models(grids[:1], [grids[0].local(folder)], "x")
    entry["models"]["gan_a"]["commit"] = "main"
    bad.write_text(yaml.safe_dump(entry, sort_keys=False))
    with pytest.raises(MemprintError, match="full 40-digit hash"):
        read_manifest(bad)


def test_misplaced_tiles_are_caught_by_their_padding(published):
    from dataclasses import replace

    manifest, folder, _ = published
    grid = read_manifest(manifest)["gan_a"]
    shifted = replace(grid, rows=3, columns=2)  # a 3x2 grid of the same picture size does not exist: size error
    with pytest.raises(MemprintError):
        import_models([shifted], [grid.local(folder)], "x")
    picture = np.array(Image.open(grid.local(folder)))
    picture[0, 0] = 7  # the padding is no longer one colour
    Image.fromarray(picture).save(grid.local(folder))
    from memprint.published import cut_grid

    with pytest.raises(MemprintError, match="not one colour"):
        cut_grid(picture, grid)
