"""The copy finder's search: every generated image and every test image, under every transform, at every layer,
against the training images of its C_T cell (``memprint.copies`` turns the distances into p-values and flags).

A query-side transform (``hflip``) embeds Q and P once more each; T and its cells are the C_T reference's,
embedded and fitted once. A training-side one (``T:crop_0.8``: an edit that loses pixels, which no query-side
transform can undo) embeds T once more and matches Q and P as they are against it, in the same cells (each edited
training point in the cell of its nearest centre), so P's calibration stays exact.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from memprint import MemprintError
from memprint.cells import assign_cells
from memprint.copies import leave_one_out_scaled, pvalues, scaled, smallest


@dataclass
class Found:
    """(N, layers, transforms) p-values, nearest training rows, distances and scaled distances of Q; P's smallest
    leave-one-out scaled distance over everything (``null``, (|P|,)) and per layer (``layer_null``, (|P|,
    layers))."""

    p: np.ndarray
    rows: np.ndarray
    dist: np.ndarray
    scaled: np.ndarray
    null: np.ndarray
    layer_null: np.ndarray


def _test_under(ref, test_layer: np.ndarray | None, device, layer: str):
    """P's cells and nearest-training distances under one transform (identity: the reference's own)."""
    if test_layer is None:
        return ref.test_cells, ref.test_dist
    cells, dist, _ = ref.generated_neighbours(test_layer, device, layer=layer)
    return cells, dist


def _train_under(ref, train_layer: np.ndarray | None):
    """The reference with T replaced by its embedding under a training-side edit (None: the reference itself)."""
    if train_layer is None:
        return ref
    edited = copy.copy(ref)
    edited.train = ref.project(train_layer)
    edited.train_cells = assign_cells(edited.train, ref.centers)
    return edited


def find(
    refs: list,
    layer_names: list[str],
    generated: dict[str, list[np.ndarray]],
    test: dict[str, list[np.ndarray] | None],
    device=None,
    seed: int = 0,
    train: dict[str, list[np.ndarray]] | None = None,
) -> Found:
    """``generated`` and ``test``: matching label -> per-layer embeddings of Q and P under it (P's identity entry
    may be None: the reference holds it); ``train``: training-side label -> T's per-layer embeddings under its
    edit (Q and P are then given as they are); ``seed``: the p-values' tie-breaking draws (one stream per layer,
    transform and set, so a p-value does not depend on what else is searched)."""
    train = train or {}
    if any(test.get(label) is None for label in train):
        raise MemprintError(
            "a training-side transform needs P's embeddings as they are: P is matched against the edited T too, "
            "so its calibration stays exact"
        )
    transforms = list(generated)
    n, layers = len(generated[transforms[0]][0]), len(refs)
    p = np.full((n, layers, len(transforms)), np.nan)
    rows = np.zeros((n, layers, len(transforms)), np.int64)
    dist = np.full((n, layers, len(transforms)), np.nan)
    closeness = np.full((n, layers, len(transforms)), np.nan)
    loo = None  # (|P|, layers, transforms), once P's size is known
    for k, (name, ref) in enumerate(zip(layer_names, refs)):  # refs may be built one layer at a time
        if ref.undefined:
            continue
        loo = np.full((len(ref.test_cells), layers, len(transforms)), np.nan) if loo is None else loo
        for t, transform in enumerate(transforms):
            edited = train[transform][k] if transform in train else None
            if edited is not None and len(edited) != len(ref.train_cells):
                raise MemprintError(
                    f"T under {transform} holds other rows than T; embed the same training images under it"
                )
            against = _train_under(ref, edited)
            test_cells, test_dist = _test_under(against, (test.get(transform) or [None] * layers)[k], device, name)
            cells, dist[:, k, t], rows[:, k, t] = against.generated_neighbours(
                generated[transform][k], device, layer=name
            )
            draws = np.random.default_rng([seed, k, t, 0]).random(n)
            p[:, k, t] = pvalues(test_cells, test_dist, cells, dist[:, k, t], draws)
            closeness[:, k, t] = scaled(test_cells, test_dist, cells, dist[:, k, t])
            loo[:, k, t] = leave_one_out_scaled(test_cells, test_dist)
            del against
        del ref  # this layer of T goes before the next one is built
    loo = np.full((0, layers, len(transforms)), np.nan) if loo is None else loo  # no layer defined: nothing to flag
    layer_null = np.stack([smallest(loo[:, k]) for k in range(layers)], axis=1)
    return Found(p, rows, dist, closeness, smallest(loo), layer_null)
