"""Fingerprinting generators by their C_T-layer curves (Bai et al., 2024, section 5).

A generator's samples are split into a reference half and a target half (repeated over seeded random splits).
Reference curves form the database; each target curve is matched to its nearest reference by L2 distance, by
cosine similarity, or by both combined as the authors' published code does (maximise
0.5 cos + 0.5 / (1 + L2)). Matching uses layers 1..L: layer 0 (the patch embedding) is left out.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from memprint import MemprintError

METHODS = ("l2", "cosine", "combined")


def split_halves(n: int, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_splits`` seeded random (reference, target) halves of ``range(n)``."""
    rng = np.random.default_rng(seed)
    halves = []
    for _ in range(n_splits):
        order = rng.permutation(n)
        halves.append((np.sort(order[: n // 2]), np.sort(order[n // 2:])))
    return halves


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (b @ a) / (np.linalg.norm(a) * np.linalg.norm(b, axis=1) + 1e-12)


def match_scores(query: np.ndarray, database: np.ndarray, method: str) -> np.ndarray:
    """Higher is closer: -L2, cosine, or 0.5 cos + 0.5 / (1 + L2) of ``query`` to each database row."""
    l2 = np.linalg.norm(database - query, axis=1)
    if method == "l2":
        return -l2
    if method == "cosine":
        return _cosine(query, database)
    if method == "combined":
        return 0.5 * _cosine(query, database) + 0.5 / (1.0 + l2)
    raise MemprintError(f"matching method {method!r} is unknown; use one of {METHODS}")


def curve_matrix(curves: pd.DataFrame, first_layer: int = 1) -> pd.DataFrame:
    """Wide table: one row per (generator, family, split, role), one column per layer >= ``first_layer``.

    Layers whose C_T is undefined (NaN) for any curve are dropped with a warning.
    """
    wide = curves[curves["layer"] >= first_layer].set_index(
        ["generator", "family", "split", "role", "layer"])["ct"].unstack("layer")
    undefined = wide.columns[wide.isna().any()]
    if len(undefined):
        warnings.warn(f"layers {list(undefined)} have undefined C_T and are left out of matching", stacklevel=2)
        wide = wide.drop(columns=undefined)
    if wide.shape[1] == 0:
        raise MemprintError("no layer with a defined C_T is left to match on")
    return wide


def match_targets(curves: pd.DataFrame, first_layer: int = 1) -> pd.DataFrame:
    """For each split and target curve, the best-matching reference under every method."""
    wide = curve_matrix(curves, first_layer)
    rows = []
    for split, block in wide.groupby(level="split"):
        refs = block.xs("reference", level="role")
        targets = block.xs("target", level="role")
        for (generator, family), query in targets.droplevel("split").iterrows():
            for method in METHODS:
                scores = match_scores(query.to_numpy(), refs.to_numpy(), method)
                best = int(np.argmax(scores))
                match_generator, match_family, _ = refs.index[best]
                rows.append({"split": split, "target": generator, "family": family, "method": method,
                             "match": match_generator, "match_family": match_family, "score": float(scores[best]),
                             "correct_generator": match_generator == generator,
                             "correct_family": match_family == family})
    return pd.DataFrame(rows)


def accuracy_table(matches: pd.DataFrame) -> pd.DataFrame:
    """Accuracy per method: share of targets matched to their own generator, and to their own family."""
    grouped = matches.groupby("method", sort=False)
    table = grouped.agg(targets=("target", "size"), generator_accuracy=("correct_generator", "mean"),
                        family_accuracy=("correct_family", "mean")).reset_index()
    return table


def similarity_matrix(curves: pd.DataFrame, first_layer: int = 1) -> pd.DataFrame:
    """Cosine similarity between generators' curves (columns: generator, layer, ct), layers >= ``first_layer``."""
    wide = curves[curves["layer"] >= first_layer].pivot_table(index="generator", columns="layer", values="ct")
    wide = wide.dropna(axis=1)
    x = wide.to_numpy()
    unit = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)
    return pd.DataFrame(unit @ unit.T, index=wide.index, columns=wide.index)
