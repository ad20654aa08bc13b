"""The copy finder's pixel view (``copies.pixels``): images shrunk to a side x side thumbnail, flattened, matched
like one more layer after the encoder's (same C_T cells' settings, same calibration on P).

Why: the encoder's layers are built to forget what an edit such as JPEG compression keeps — the exact pixels —
so a copy that is pixel-near its source can rank below one that is only semantically near; the pixel view is the
nearest-training-image check of Carlini et al. (2023) inside memprint's calibrated family-wise test, so the copy
finder sees at least what that check sees. A query-side matching edits the thumbnails of Q and P the same way, a
training-side one T's, so P's calibration stays exact here too.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from memprint import transforms as tf
from memprint.embedding_files import OnDemand


def view_name(side: int) -> str:
    return f"pixels {side}x{side}"


def pixel_vectors(images: np.ndarray, side: int) -> np.ndarray:
    """(N, side * side * C) float32 in [0, 1]: NHWC uint8 images resized (antialiased) to side x side."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(255)
    if x.shape[-2:] != (side, side):
        x = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)
    return x.permute(0, 2, 3, 1).reshape(len(x), -1).numpy()


def edited_vectors(label: str, images: np.ndarray, side: int, side_of_edit: int) -> np.ndarray:
    """Thumbnails of ``images`` under the edit a matching label makes on one side (0: Q and P, 1: T)."""
    return pixel_vectors(tf.apply(tf.sides(label)[side_of_edit], images), side)


def appended(layers: Sequence, make_last) -> OnDemand:
    """``layers`` with one more item after them, made by ``make_last()`` when asked for (lazy layers stay lazy)."""
    count = len(layers)
    return OnDemand(count + 1, lambda k: layers[k] if k < count else make_last())


def pixel_reference(train_images: np.ndarray, test_images: np.ndarray, settings: dict, side: int, device=None):
    """The C_T cells and P's nearest-training distances of the pixel view, with the score's settings."""
    from memprint.ct import CTSettings, LayerReference

    return LayerReference.fit(
        pixel_vectors(train_images, side),
        pixel_vectors(test_images, side),
        CTSettings(**settings),
        device,
        layer=view_name(side),
    )


def with_pixel_view(refs, names, settings, sets, side, generated: dict, test: dict, train: dict):
    """The copy finder's inputs with the pixel view after the last layer (in place for the per-matching dicts):
    Q's and P's thumbnails under each matching's query-side edit, T's under each training-side edit."""
    thumbnails = functools.cache(lambda name, edit: pixel_vectors(tf.apply(edit, sets[name].images), side))
    for label in generated:  # each query-side edit shrunk once, however many matchings share it
        generated[label] = [*generated[label], thumbnails("generated", tf.sides(label)[0])]
    for label in test:
        if test[label] is not None:
            test[label] = [*test[label], thumbnails("test", tf.sides(label)[0])]
    for label in train:
        train[label] = appended(train[label], lambda label=label: edited_vectors(label, sets["train"].images, side, 1))
    ref = appended(refs, lambda: pixel_reference(sets["train"].images, sets["test"].images, settings, side))
    return ref, [*names, view_name(side)]
