"""Samples of published generative models, cut from the image grids their public repositories commit.

A manifest (YAML) names each model's grid file by repository, commit, path and SHA-256, with the grid's
geometry (rows, columns, tile size, padding between and around tiles) and the licence the repository states.
Online, a file comes from the commit's raw URL (``raw.githubusercontent.com``, pinned by commit and checked
against its hash); offline, from a local folder laid out as ``<folder>/<owner>/<repository>/<path>``. Either way
the SHA-256 must match, so a manifest always means the same pixels. Images are never committed, only manifests.
"""

from __future__ import annotations

import hashlib
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memprint import MemprintError
from memprint.io import ImageSet, atomic_path, sha256_file

REQUIRED = ("repository", "commit", "path", "sha256", "family", "licence", "grid")
GRID_KEYS = ("rows", "columns", "tile", "padding")


@dataclass(frozen=True)
class GridFile:
    """One published model's committed sample grid."""

    name: str
    repository: str
    commit: str
    path: str
    sha256: str
    family: str
    licence: str
    rows: int
    columns: int
    tile: int
    padding: int
    note: str = ""

    @property
    def url(self) -> str:
        return f"https://raw.githubusercontent.com/{self.repository}/{self.commit}/{self.path}"

    @property
    def images(self) -> int:
        return self.rows * self.columns

    def local(self, folder: str | Path) -> Path:
        return Path(folder) / self.repository / self.path

    def download_name(self) -> str:
        """The file name a download is kept under: its hash, so two manifests never collide."""
        return f"{self.sha256}{Path(self.path).suffix}"


def read_manifest(path: str | Path) -> dict[str, GridFile]:
    """Model name -> its grid file; a missing or malformed field is one error naming the model and the field."""
    from memprint.io import read_yaml

    raw = read_yaml(path).get("models")
    if not isinstance(raw, dict) or not raw:
        raise MemprintError(f"{path}: a manifest needs a 'models' mapping of model name -> grid file")
    models = {}
    for name, entry in raw.items():
        where = f"{path}: model {name}"
        missing = [k for k in REQUIRED if k not in (entry or {})]
        if missing:
            raise MemprintError(f"{where}: missing {', '.join(missing)}; every model needs {', '.join(REQUIRED)}")
        grid = entry["grid"]
        if not isinstance(grid, dict) or any(not isinstance(grid.get(k), int) or grid[k] < 0 for k in GRID_KEYS):
            raise MemprintError(f"{where}: grid needs non-negative integers {', '.join(GRID_KEYS)}")
        if grid["rows"] < 1 or grid["columns"] < 1 or grid["tile"] < 1:
            raise MemprintError(f"{where}: grid rows, columns and tile must be at least 1")
        if not re.fullmatch(r"[0-9a-f]{64}", str(entry["sha256"])):
            raise MemprintError(f"{where}: sha256 must be 64 lower-case hex digits")
        if not re.fullmatch(r"[0-9a-f]{40}", str(entry["commit"])):
            raise MemprintError(f"{where}: commit must be a full 40-digit hash (a branch name moves)")
        models[str(name)] = GridFile(
            name=str(name),
            **{k: str(entry[k]) for k in ("repository", "commit", "path", "sha256", "family", "licence")},
            **{k: int(grid[k]) for k in GRID_KEYS},
            note=str(entry.get("note", "")),
        )
    return models


def check_hash(path: str | Path, grid: GridFile) -> None:
    found = sha256_file(path)
    if found != grid.sha256:
        raise MemprintError(
            f"{path}: SHA-256 {found[:16]}... is not the manifest's {grid.sha256[:16]}... for model {grid.name}; "
            f"get the file of commit {grid.commit[:12]} ({grid.url})"
        )


def download(grid: GridFile, out: str | Path) -> None:
    """The grid file from its commit's raw URL, checked against its hash, written atomically."""
    try:
        with urllib.request.urlopen(grid.url, timeout=60) as response:
            payload = response.read()
    except OSError as err:
        raise MemprintError(
            f"could not download {grid.url} ({err}); offline, put the file under a folder as "
            f"<folder>/{grid.repository}/{grid.path} and give that folder (a generator's folder: key, or --folder)"
        ) from None
    found = hashlib.sha256(payload).hexdigest()
    if found != grid.sha256:
        raise MemprintError(f"{grid.url}: SHA-256 {found[:16]}... is not the manifest's {grid.sha256[:16]}...")
    with atomic_path(out) as tmp:
        Path(tmp).write_bytes(payload)


def cut_grid(pixels: np.ndarray, grid: GridFile) -> np.ndarray:
    """The (rows x columns, tile, tile, C) images of a grid picture (H, W, C): tiles in row-major order, each
    ``padding`` pixels from its neighbours and from the border (torchvision's ``make_grid`` layout)."""
    step = grid.tile + grid.padding
    height, width = grid.rows * step + grid.padding, grid.columns * step + grid.padding
    if pixels.shape[:2] != (height, width):
        raise MemprintError(
            f"model {grid.name}: the picture is {pixels.shape[1]}x{pixels.shape[0]} px, a grid of "
            f"{grid.rows}x{grid.columns} tiles of {grid.tile} px with {grid.padding} px padding is {width}x{height}; "
            "fix the manifest's grid"
        )
    between = np.ones((height, width), bool)
    tiles = []
    for r in range(grid.rows):
        for c in range(grid.columns):
            top, left = grid.padding + r * step, grid.padding + c * step
            tiles.append(pixels[top : top + grid.tile, left : left + grid.tile])
            between[top : top + grid.tile, left : left + grid.tile] = False
    padding = pixels[between]
    if len(padding) and (padding != padding[0]).any():
        raise MemprintError(
            f"model {grid.name}: the padding between tiles is not one colour, so the tiles are not where the "
            "manifest's grid puts them; fix rows, columns, tile or padding"
        )
    return np.stack(tiles)


def read_grid(path: str | Path, grid: GridFile) -> np.ndarray:
    """The images of one grid file, RGB uint8, after its hash is checked."""
    from PIL import Image

    check_hash(path, grid)
    with Image.open(path) as picture:
        pixels = np.asarray(picture.convert("RGB"))
    return cut_grid(pixels, grid)


def import_models(grids: list[GridFile], files: list[str | Path], name: str) -> ImageSet:
    """One image set of the given models' samples (in manifest order), ids ``<model>/<k>``, no labels (-1), with
    each model's repository, commit, path, hash and licence in the provenance."""
    images, ids = [], []
    for grid, path in zip(grids, files, strict=True):
        tiles = read_grid(path, grid)
        images.append(tiles)
        ids += [f"{grid.name}/{k}" for k in range(len(tiles))]
    attrs = {
        "source": f"published:{','.join(g.name for g in grids)}",
        "generator": name,
        "weights_used": "none (published samples)",
        "published": [
            {
                "model": g.name,
                "repository": g.repository,
                "commit": g.commit,
                "path": g.path,
                "sha256": g.sha256,
                "url": g.url,
                "licence": g.licence,
                "family": g.family,
                "images": g.images,
            }
            for g in grids
        ],
    }
    stacked = np.concatenate(images)
    return ImageSet(stacked, np.full(len(stacked), -1, np.int64), np.array(ids, dtype=object), attrs)
