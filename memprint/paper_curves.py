"""The per-layer C_T curves Bai et al. published with their code (JackHe313/LayerChoice), imported as data.

Their repository commits the numbers behind their figures in three forms: ``model_ct_scores.txt`` (one line per
model, ``name [c_1, ..., c_12]``: 18 CIFAR-10 models through ViT-B/16 in21k), ``plot.txt`` (the same form: the
GAN500 set and the pathological sets) and plotting scripts whose lists hold the GAN500 curves per encoder
(``Dino_small = [...]``). A manifest (``configs/published/layerchoice.yaml``) pins each file by commit and
SHA-256 and says which encoder each series used; this module reads the files into one table (series, encoder,
block, value), never running their code.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd

from memprint import MemprintError

LINE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(\[[^\]]*\])\s*$")


def named_lists(text: str) -> list[tuple[str, list[float]]]:
    """``name [v1, v2, ...]`` lines, in order (a name may repeat); other lines are ignored."""
    found = []
    for line in text.splitlines():
        match = LINE.match(line)
        if match:
            found.append((match.group(1), [float(v) for v in ast.literal_eval(match.group(2))]))
    return found


def assigned_lists(source: str) -> dict[str, list[float]]:
    """Top-level ``name = [numbers]`` assignments of a Python file, read with ``ast`` (the file is not run)."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
                found[node.targets[0].id] = [float(v) for v in value]
    return found


def read_paper_curves(manifest: dict, folder: str | Path) -> pd.DataFrame:
    """One row per (file, series, block): the manifest's files read from ``folder/<repository>/<path>`` after
    their hashes are checked; ``series`` of a file maps a series name to its encoder (series left out of the
    manifest are not imported). Repeated names in a file keep their order as ``occurrence``."""
    from memprint.io import sha256_file

    rows = []
    for path, spec in manifest["files"].items():
        local = Path(folder) / manifest["repository"] / path
        if not local.is_file():
            raise MemprintError(
                f"{local} not found; fetch {manifest['repository']} at commit {manifest['commit'][:12]} and put "
                f"{path} there (https://raw.githubusercontent.com/{manifest['repository']}/{manifest['commit']}/{path})"
            )
        if sha256_file(local) != spec["sha256"]:
            raise MemprintError(f"{local}: SHA-256 differs from the manifest's; get the file of the pinned commit")
        text = local.read_text()
        series = list(assigned_lists(text).items()) if path.endswith(".py") else named_lists(text)
        seen: dict[str, int] = {}
        for name, values in series:
            occurrence = seen[name] = seen.get(name, -1) + 1
            encoder = spec["series"].get(name) if occurrence == 0 else spec["series"].get(f"{name}#{occurrence}")
            if encoder is None:
                continue
            rows += [
                {"file": path, "series": name, "occurrence": occurrence, "encoder": encoder, "block": i + 1, "value": v}
                for i, v in enumerate(values)
            ]
    return pd.DataFrame(rows)
