"""Does the copy finder find copies that were edited, at its stated false-positive rate? Planted copies among
held-out images, on real embeddings.

A perfect generator's samples (real images in neither T nor P) are the held-out set. The mix replaces a share of
them with training images edited one way each (``KINDS``: exact, a horizontal flip, an 80% crop resized back, a
15 degree rotation, a colour jitter, JPEG quality 30, and a 70% crop and a 10 degree rotation, off the grid of
edits a finder is usually configured with), a different training image per copy. Every image, and
every image under each of the finder's matching transforms, is embedded with the run's encoder. Reported per
kind: the ROC AUC of the image-level statistic (planted against the mix's held-out images) and the share flagged;
for the pure held-out set, the share flagged with its 95% Wilson interval (the family-wise rate, nominal
``level``). Beside it two baselines of the field: the nearest training image in pixel space (Carlini et al.'s
check; flagged below the ``level`` quantile of P's pixel distances) and the cosine of the encoder's last layer
with the 0.5 cut-off of DCR (Somepalli et al.).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from memprint import transforms as tf
from memprint.copies import smallest, wilson_interval
from memprint.copy_finder import find

KINDS = {
    "exact": "identity",
    "flip": "hflip",
    "crop": "crop_0.8",
    "rotation": "rotate_15",
    "jitter": "jitter_0.3",
    "jpeg": "jpeg_30",
    "crop 70%": "crop_0.7",  # off the grid of a finder configured for crop_0.8 and +-15 degrees
    "rotation 10°": "rotate_10",
}


def embed_layers(encoder, images: np.ndarray, batch_size: int, device) -> list[np.ndarray]:
    """Every layer's embedding of ``images`` as the pipeline stores them (float16, read back as float32)."""
    from memprint.encoders import embed_images

    parts: list[list[np.ndarray]] = []
    embed_images(
        encoder, images, batch_size, device, on_batch=lambda first, layers: parts.append(layers), progress=False
    )
    return [np.concatenate([p[i] for p in parts]).astype(np.float16).astype(np.float32) for i in range(len(parts[0]))]


def pixel_nearest(images: np.ndarray, train_images: np.ndarray) -> np.ndarray:
    """Each image's Euclidean distance to its nearest training image in pixel space (0..1)."""
    from memprint.search import nearest_distances

    flat = images.reshape(len(images), -1).astype(np.float32) / 255.0
    return nearest_distances(flat, train_images.reshape(len(train_images), -1).astype(np.float32) / 255.0)


def cosine_nearest(last: np.ndarray, train_last: np.ndarray) -> np.ndarray:
    """Each embedding's largest cosine similarity to a training embedding."""
    a = last / np.linalg.norm(last, axis=1, keepdims=True)
    b = train_last / np.linalg.norm(train_last, axis=1, keepdims=True)
    return np.concatenate([(a[i : i + 2048] @ b.T).max(1) for i in range(0, len(a), 2048)])


def planted_sets(fresh_images: np.ndarray, train_images: np.ndarray, fraction: float, seed: int):
    """The mix (held-out images with ``fraction`` of them replaced per kind) and, per image, its kind
    (``held-out`` or a key of KINDS) and the training row it was made from (-1)."""
    rng = np.random.default_rng(seed)
    n = len(fresh_images)
    per_kind = max(1, round(fraction * n))
    sources = rng.choice(len(train_images), per_kind * len(KINDS), replace=False).reshape(len(KINDS), per_kind)
    keep = np.sort(rng.choice(n, n - per_kind * len(KINDS), replace=False))
    images, kinds, made_from = [fresh_images[keep]], ["held-out"] * len(keep), [np.full(len(keep), -1)]
    for (kind, edit), rows in zip(KINDS.items(), sources):
        images.append(tf.apply(edit, train_images[rows]))
        kinds += [kind] * per_kind
        made_from.append(rows)
    return np.concatenate(images), np.array(kinds), np.concatenate(made_from)


def validation_table(
    refs,
    names,
    train_layers,
    test_embedded: dict,
    fresh_images,
    train_images,
    test_images,
    embed,
    matching,
    level: float,
    settings: dict,
    device=None,
    train_edited: dict | None = None,
    *,
    statistic: dict,
    test_plain,
) -> pd.DataFrame:
    """One row per planted kind (and one for the pure held-out set): memprint's AUC and flagged share beside the
    two baselines'. ``test_embedded``: matching label -> P's per-layer embeddings (identity: None, the
    reference's); ``embed(images)``: per-layer embeddings; ``matching``: the finder's labels; ``train_edited``:
    training-side label -> T's per-layer embeddings under its edit; with the pixel view, ``refs``, ``names``,
    ``embed`` and the edited sets hold it after the encoder's layers (``train_layers``: the encoder's only);
    ``statistic``: ``copies.statistic`` (default: ``smallest``), ``test_plain``: P's per-layer embeddings."""
    from sklearn.metrics import roc_auc_score

    from memprint.copy_evidence import evidence_views, image_level

    mix, kinds, made_from = planted_sets(fresh_images, train_images, settings["fraction"], settings["seed"])
    rows = []
    pixel_cut = np.quantile(pixel_nearest(test_images, train_images), level)
    for name, images, labels in (
        ("pure held-out", fresh_images, np.array(["held-out"] * len(fresh_images))),
        ("mix", mix, kinds),
    ):
        edits = {label: tf.sides(label)[0] for label in matching}
        by_edit = {edit: embed(tf.apply(edit, images)) for edit in dict.fromkeys(edits.values())}
        embedded = {label: by_edit[edit] for label, edit in edits.items()}
        sources = (train_layers, train_edited or {}, embedded, test_embedded, test_plain)
        views = evidence_views(statistic, names[: len(train_layers)], *sources)
        found = find(refs, names, embedded, test_embedded, device, train=train_edited)
        image_p, evidence = image_level(found, statistic, views, train_images, images, test_images)
        flagged = image_p <= level
        score = -smallest(found.scaled) if evidence is None else evidence.q_statistic  # larger: more copy-like
        pixel = pixel_nearest(images, train_images)
        cosine = cosine_nearest(embedded["identity"][len(train_layers) - 1], train_layers[-1])  # the encoder's last
        kinds_here = ["held-out"] if name == "pure held-out" else list(KINDS)
        for kind in kinds_here:
            chosen, held = labels == kind, labels == "held-out"
            row = {"set": name, "kind": kind, "images": int(chosen.sum())}
            row |= dict(zip(("flagged", "ci_low", "ci_high"), _share(flagged[chosen])))
            row |= {
                "pixel_l2_flagged": float((pixel[chosen] <= pixel_cut).mean()),
                "dcr_flagged": float((cosine[chosen] >= 0.5).mean()),
            }
            if kind != "held-out":
                truth = np.r_[np.ones(chosen.sum()), np.zeros(held.sum())]
                pick = np.r_[np.flatnonzero(chosen), np.flatnonzero(held)]
                row |= {
                    "auc": roc_auc_score(truth, score[pick]),
                    "pixel_l2_auc": roc_auc_score(truth, -pixel[pick]),
                    "dcr_auc": roc_auc_score(truth, cosine[pick]),
                    "source_found": _source_found(found, chosen, made_from, evidence),
                }
            rows.append(row)
    return pd.DataFrame(rows)


def _share(flags: np.ndarray) -> tuple[float, float, float]:
    low, high = wilson_interval(int(flags.sum()), len(flags))
    return float(flags.mean()) if len(flags) else np.nan, low, high


def _source_found(found, chosen: np.ndarray, made_from: np.ndarray, evidence=None) -> float:
    """How often the image's match (the verified one, else the smallest scaled distance's) is the training image
    it was made from."""
    if evidence is not None:
        return float((evidence.q_match[chosen] == made_from[chosen]).mean())
    flat = np.where(np.isfinite(found.scaled), found.scaled, np.inf).reshape(len(found.scaled), -1).argmin(1)
    layer, transform = np.unravel_index(flat, found.scaled.shape[1:])
    rows = found.rows[np.arange(len(found.scaled)), layer, transform]
    return float((rows[chosen] == made_from[chosen]).mean())
