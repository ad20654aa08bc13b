"""Does the copy finder find copies C_T misses? Planted copies among held-out images, on real embeddings.

A mix is a perfect generator's samples (real images in neither T nor P) with a share of them replaced by
training images: exact copies (their embeddings are T's own rows), and copies that were rotated or recoloured
(embedded here with the run's encoder). Per mix and layer: the copy rate with its 95% interval, the ROC AUC of
the copy score for finding the planted samples, how often the nearest training image is the planted source,
and C_T of the whole mix with its bootstrap interval, which stays near 0 when only a few samples are copies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from memprint import augment
from memprint.copies import copy_scores, wilson_interval
from memprint.ct import LayerReference
from memprint.ct_interval import bootstrap_ct, percentile_interval, resample_counts


def embed_layers(encoder, images: np.ndarray, batch_size: int, device: torch.device) -> list[np.ndarray]:
    """Every layer's embedding of ``images`` as the pipeline stores them (float16, read back as float32)."""
    from memprint.encoders import embed_images

    parts: list[list[np.ndarray]] = []
    embed_images(
        encoder, images, batch_size, device, on_batch=lambda first, layers: parts.append(layers), progress=False
    )
    return [np.concatenate([p[i] for p in parts]).astype(np.float16).astype(np.float32) for i in range(len(parts[0]))]


def altered_copies(images: np.ndarray, rotate: float, hue: float) -> dict[str, np.ndarray]:
    return {"rotated": augment.rotate(images, rotate), "recoloured": augment.recolour(images, hue)}


def evaluate_mix(
    refs: list[LayerReference],
    names: list[str],
    fresh: list[np.ndarray],
    copies: list[np.ndarray],
    sources: np.ndarray,
    threshold: float,
    replicates: int,
    seed: int,
    mix: str,
) -> list[dict]:
    """One row per layer for fresh samples followed by planted ``copies`` of training rows ``sources``."""
    from sklearn.metrics import roc_auc_score

    n_copies = len(copies[0]) if copies else 0
    planted = np.r_[np.zeros(len(fresh[0]), bool), np.ones(n_copies, bool)]
    n = len(planted)
    test_counts = resample_counts(len(refs[0].test_cells), replicates, seed, "test")
    gen_counts = resample_counts(n, replicates, seed, f"mix:{mix}")
    rows = []
    for layer, (name, ref) in enumerate(zip(names, refs)):
        if ref.undefined:
            continue
        q = np.concatenate([fresh[layer]] + ([copies[layer]] if copies else []))
        cells, dist, nearest = ref.generated_neighbours(q, layer=name)
        scores = np.nan_to_num(copy_scores(ref, cells, dist), nan=1.0)
        flagged = int((scores < threshold).sum())
        low, high = wilson_interval(flagged, n)
        ct_low, ct_high = percentile_interval(bootstrap_ct(ref, cells, dist, test_counts, gen_counts))
        rows.append(
            {
                "mix": mix,
                "layer": layer,
                "layer_name": name,
                "samples": n,
                "planted": n_copies,
                "copy_rate": flagged / n,
                "ci_low": low,
                "ci_high": high,
                "auc": roc_auc_score(planted, -scores) if n_copies else np.nan,
                "planted_flagged": float((scores[planted] < threshold).mean()) if n_copies else np.nan,
                "source_found": float((nearest[planted] == sources).mean()) if n_copies else np.nan,
                "ct": ref.score_distances(cells, dist).ct,
                "ct_low": float(ct_low),
                "ct_high": float(ct_high),
            }
        )
    return rows


def planted_copies_table(
    refs,
    names,
    train_layers,
    fresh_layers,
    train_images: np.ndarray,
    encoder,
    settings: dict,
    threshold: float,
    replicates: int,
    device,
    batch_size: int,
) -> pd.DataFrame:
    """Every mix (none, exact, rotated, recoloured) at every layer; ``settings``: fraction, rotate, hue, seed."""
    rng = np.random.default_rng(settings["seed"])
    n = len(fresh_layers[0])
    k = max(1, round(settings["fraction"] * n))
    sources = np.sort(rng.choice(len(train_layers[0]), k, replace=False))
    keep = np.sort(rng.choice(n, n - k, replace=False))
    fresh_all = list(fresh_layers)
    fresh = [layer[keep] for layer in fresh_layers]
    mixes = {
        "none (held-out only)": (fresh_all, [], sources[:0]),
        "exact copies": (fresh, [layer[sources] for layer in train_layers], sources),
    }
    for kind, images in altered_copies(train_images[sources], settings["rotate"], settings["hue"]).items():
        mixes[f"{kind} copies"] = (fresh, embed_layers(encoder, images, batch_size, device), sources)
    rows = []
    for mix, (base, copies, rows_of_sources) in mixes.items():
        rows += evaluate_mix(refs, names, base, copies, rows_of_sources, threshold, replicates, settings["seed"], mix)
    return pd.DataFrame(rows)
