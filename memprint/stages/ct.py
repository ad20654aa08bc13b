"""C_T stages: the per-layer reference fit on T and P (once per C_T setting, shared by every generator) and one
generator's C_T-layer curves with bootstrap intervals and per-sample copies, all from one nearest-neighbour
search per layer."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from memprint import MemprintError
from memprint.ct import CTSettings, LayerReference
from memprint.embedding_files import Embeddings, read_embeddings
from memprint.io import atomic_path, h5_attrs, open_h5, provenance, write_csv
from memprint.runtime import resolve_device


def fit_ct_references(
    train_emb: str, test_emb: str, settings: dict[str, dict], outs: dict[str, str], device: str = "auto"
) -> None:
    """Per C_T setting (name -> settings) and layer: projection, KMeans cells on T, P's cells and distances,
    written to ``outs[name]`` and reused by every generator's score. T and P are read once."""
    import h5py

    train, test = read_embeddings(train_emb), read_embeddings(test_emb)
    if train.layer_names != test.layer_names:
        raise MemprintError(f"{train_emb} and {test_emb} hold different layers; re-embed both with one encoder")
    dev = resolve_device(device)
    for name, values in settings.items():
        started, setting = time.perf_counter(), CTSettings(**values)
        with atomic_path(outs[name]) as tmp, h5py.File(tmp, "w", locking=False) as f:
            for layer, t, p in zip(train.layer_names, train.layers, test.layers):
                ref = LayerReference.fit(t, p, setting, dev, layer=layer)
                group = f.create_group(layer)
                for key, value in ref.state().items():
                    group.create_dataset(key, data=value)
                group.attrs["warning"] = ref.warning
            f.attrs.update(
                h5_attrs(
                    provenance(
                        settings=setting.__dict__,
                        layer_names=train.layer_names,
                        train_embeddings=train_emb,
                        test_embeddings=test_emb,
                        seconds=time.perf_counter() - started,
                        train_imageset_sha256=train.attrs.get("imageset_sha256", ""),
                        **{k: train.attrs[k] for k in ("weights_source", "weights_sha256") if k in train.attrs},
                    )
                )
            )


def load_ct_reference(path: str, train: Embeddings) -> tuple[list[LayerReference], CTSettings]:
    """The per-layer references fit by ``fit_ct_references``, re-attached to the training embeddings they were fit
    on (the same image set through the same weights, else an error)."""
    with open_h5(path) as f:
        settings = CTSettings(**json.loads(f.attrs["settings"]))
        names = json.loads(f.attrs["layer_names"])
        if names != train.layer_names:
            raise MemprintError(
                f"{path} was fit on layers {names}, the training embeddings hold {train.layer_names}; rerun the "
                "reference step on these embeddings"
            )
        for key in ("train_imageset_sha256", "weights_sha256"):
            if key in f.attrs and f.attrs[key] != train.attrs.get(key.removeprefix("train_"), f.attrs[key]):
                raise MemprintError(
                    f"{path} was fit on other training embeddings ({key} differs); rerun the reference step on these "
                    "embeddings"
                )
        refs = [
            LayerReference.from_state(
                {k: v[()] for k, v in f[name].items()}, layer, settings, str(f[name].attrs["warning"])
            )
            for name, layer in zip(names, train.layers)
        ]
    return refs, settings


def score_layers(
    refs: list[LayerReference], names: list[str], generated: list[np.ndarray], dev, bootstrap: dict | None = None
) -> tuple[pd.DataFrame, np.ndarray | None, list]:
    """One row per layer; ``bootstrap`` ({replicates, seed, generator}) adds 95% intervals (``ct_low``,
    ``ct_high``) and returns the (replicates, layers) bootstrap curves, else None; and per layer Q's
    (cells, distances, nearest training rows), None where C_T is undefined, for the copy finder."""
    from memprint.ct_interval import bootstrap_ct, percentile_interval, resample_counts

    rows, curves, neighbours = [], [], []
    if bootstrap:
        test_counts = resample_counts(len(refs[0].test_cells), bootstrap["replicates"], bootstrap["seed"], "test")
        gen_counts = resample_counts(
            len(generated[0]), bootstrap["replicates"], bootstrap["seed"], f"generated:{bootstrap['generator']}"
        )
    for index, (name, ref, q) in enumerate(zip(names, refs, generated)):
        if ref.undefined:
            result, replicate = ref.score(q, dev, layer=name), np.full(len(test_counts) if bootstrap else 0, np.nan)
            neighbours.append(None)
        else:
            cells, dist, nearest = ref.generated_neighbours(q, dev, layer=name)
            neighbours.append((cells, dist, nearest))
            result = ref.score_distances(cells, dist, layer=name)
            replicate = bootstrap_ct(ref, cells, dist, test_counts, gen_counts) if bootstrap else None
        row = {"layer": index, "layer_name": name, "ct": result.ct}
        if bootstrap:
            curves.append(replicate)
            row["ct_low"], row["ct_high"] = (
                (float(v) for v in percentile_interval(replicate)) if np.isfinite(replicate).any() else (np.nan, np.nan)
            )
        rows.append(
            {
                **row,
                "tau": result.tau,
                "cells_used": result.cells_used,
                "cells": len(result.z_per_cell),
                "n_test": len(ref.test_cells),
                "n_generated": len(q),
                "min_generated_in_used_cell": min(
                    (g for g, z in zip(result.generated_per_cell, result.z_per_cell) if z is not None), default=0
                ),
                "generated_per_cell": json.dumps(result.generated_per_cell),
                "test_per_cell": json.dumps(result.test_per_cell),
                "z_per_cell": json.dumps(result.z_per_cell),
                "warning": result.warning,
            }
        )
    return pd.DataFrame(rows), (np.stack(curves, axis=1) if bootstrap else None), neighbours


def ct_curve(
    references: list[str],
    train_emb: str,
    generated_emb: str,
    curve_outs: list[str],
    replicate_outs: list[str],
    generator: str,
    intervals: dict,
    device: str = "auto",
    copies_out: str | None = None,
    copy_threshold: float = 0.01,
) -> None:
    """The C_T-layer curve of one generated set under each C_T setting (one reference file each): one CSV row
    per layer with its 95% bootstrap interval, and the bootstrap replicate curves the claims table uses.
    ``copies_out``: every sample's nearest training image, distance, copy score and flag per layer under the
    first setting, from the same nearest-neighbour search."""
    import h5py

    from memprint.copies import copies_frame

    train, generated = read_embeddings(train_emb), read_embeddings(generated_emb)
    dev = resolve_device(device)
    for index, (reference, out, replicates_out) in enumerate(zip(references, curve_outs, replicate_outs, strict=True)):
        refs, settings = load_ct_reference(reference, train)
        df, replicates, neighbours = score_layers(
            refs, train.layer_names, generated.layers, dev, {**intervals, "generator": generator}
        )
        meta = {
            "generator": generator,
            "generated_embeddings": generated_emb,
            "ct_settings": settings.__dict__,
            "interval": f"95% percentile bootstrap of P and Q over fixed cells ({intervals['replicates']} "
            f"replicates, seed {intervals['seed']})",
            **{k: generated.attrs.get(k) for k in ("weights_source", "weights_sha256", "imageset_sha256")},
        }
        with atomic_path(replicates_out) as tmp, h5py.File(tmp, "w", locking=False) as f:
            f.create_dataset("ct", data=replicates, fletcher32=True)
            f.attrs.update(h5_attrs(provenance(layer_names=train.layer_names, **meta)))
        write_csv(df, out, meta)
        if index == 0 and copies_out:
            frames = [
                copies_frame(ref, found, train.image_ids, generated.image_ids, layer, name, copy_threshold)
                for layer, (name, ref, found) in enumerate(zip(train.layer_names, refs, neighbours))
                if found is not None
            ]
            write_csv(
                pd.concat(frames, ignore_index=True),
                copies_out,
                {
                    **meta,
                    "copy_threshold": copy_threshold,
                    "score": "mid-rank percentile of the nearest-training distance among the test set's in the "
                    "same cell (uniform for held-out images)",
                },
            )
