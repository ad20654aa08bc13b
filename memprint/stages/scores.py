"""Score stages: every configured score's reference (what depends on T and P only, per layer, shared by every
generator) and one generator's score-layer curves with 95% bootstrap intervals."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from memprint import MemprintError
from memprint.embedding_files import Embeddings, OnDemand, read_embeddings
from memprint.io import atomic_path, h5_attrs, open_h5, provenance, write_csv
from memprint.runtime import resolve_device
from memprint.scores import Resampling, score


def fit_references(
    *, train: str, test: str, scores: dict[str, dict], references: dict[str, str], device: str = "auto"
) -> None:
    """Per score (name -> spec) and layer, what depends on T and P only, written to ``references[name]``; P is read
    once, T one layer at a time."""
    import h5py

    train_emb, test_emb = read_embeddings(train, lazy=True), read_embeddings(test)  # T: one layer at a time
    if train_emb.layer_names != test_emb.layer_names:
        raise MemprintError(f"{train} and {test} hold different layers; re-embed both with one encoder")
    dev = resolve_device(device)
    for name, spec in scores.items():
        started, kind = time.perf_counter(), score(name, spec)
        with atomic_path(references[name]) as tmp, h5py.File(tmp, "w", locking=False) as f:
            for layer, t, p in zip(train_emb.layer_names, train_emb.layers, test_emb.layers):
                state, warning = kind.fit(t, p, dev, layer)
                group = f.create_group(layer)
                for key, value in state.items():
                    group.create_dataset(key, data=value)
                group.attrs["warning"] = warning
                del t, state  # this layer of T goes before the next one is read
            f.attrs.update(
                h5_attrs(
                    provenance(
                        score=name,
                        kind=kind.kind,
                        settings=kind.settings(),
                        layer_names=train_emb.layer_names,
                        train_embeddings=train,
                        test_embeddings=test,
                        seconds=time.perf_counter() - started,
                        train_imageset_sha256=train_emb.attrs.get("imageset_sha256", ""),
                        **{k: train_emb.attrs[k] for k in ("weights_source", "weights_sha256") if k in train_emb.attrs},
                    )
                )
            )


def load_reference(path: str, train: Embeddings) -> tuple[list[dict], dict]:
    """A score's per-layer states (``warning`` included) and its provenance, checked against the training
    embeddings they go with (the same image set through the same weights, else an error)."""
    with open_h5(path) as f:
        meta = {k: (json.loads(v) if k in ("settings", "layer_names") else v) for k, v in f.attrs.items()}
        if meta["layer_names"] != train.layer_names:
            raise MemprintError(
                f"{path} was fit on layers {meta['layer_names']}, the training embeddings hold {train.layer_names}; "
                "rerun the reference step on these embeddings"
            )
        for key in ("train_imageset_sha256", "weights_sha256"):
            if meta.get(key) and meta[key] != train.attrs.get(key.removeprefix("train_"), meta[key]):
                raise MemprintError(
                    f"{path} was fit on other training embeddings ({key} differs); rerun the reference step on these "
                    "embeddings"
                )
        states = [
            {**{k: v[()] for k, v in f[layer].items()}, "warning": str(f[layer].attrs["warning"])}
            for layer in meta["layer_names"]
        ]
    return states, meta


def load_ct_references(path: str, train: Embeddings) -> tuple[list, dict]:
    """The fitted C_T references of a C_T-kind score (one per layer, built when used: with ``train`` read lazily,
    one layer of T in memory at a time) and its settings: what the copy finder reuses."""
    states, meta = load_reference(path, train)
    kind = score(meta["score"], {"kind": meta["kind"], **meta["settings"]})
    if not kind.copies:
        raise MemprintError(f"{path}: score {meta['score']} ({meta['kind']}) finds no nearest training images")

    def reference(k: int):
        return kind.reference(
            {key: v for key, v in states[k].items() if key != "warning"}, states[k]["warning"], train.layers[k]
        )

    return OnDemand(len(states), reference), meta["settings"]


def score_curve(
    *,
    references: dict[str, str],
    train: str,
    test: str,
    generated: str,
    curves: dict[str, str],
    replicates: dict[str, str],
    generator: str,
    scores: dict[str, dict],
    intervals: dict,
    device: str = "auto",
) -> None:
    """One generated set's curve under every score (``curves[name]``: one CSV row per layer with the value and its
    95% bootstrap interval; ``replicates[name]``: the replicate curves the claims use)."""
    import h5py

    from memprint.ct_interval import percentile_interval

    train_emb, test_emb, gen_emb = read_embeddings(train, lazy=True), read_embeddings(test), read_embeddings(generated)
    dev = resolve_device(device)
    resampling = Resampling(intervals["replicates"], intervals["seed"], generator)
    for name, spec in scores.items():
        kind = score(name, spec)
        states, _ = load_reference(references[name], train_emb)
        rows, curves_b = [], []
        for index, (layer, state, t, p, q) in enumerate(
            zip(train_emb.layer_names, states, train_emb.layers, test_emb.layers, gen_emb.layers)
        ):
            result = kind.score(state, t, p, q, dev, layer, resampling)
            finite = result.replicates is not None and np.isfinite(result.replicates).any()
            low, high = (float(v) for v in percentile_interval(result.replicates)) if finite else (np.nan, np.nan)
            rows.append({"layer": index, "layer_name": layer, "value": result.value, "low": low, "high": high})
            rows[-1] |= result.detail
            curves_b.append(result.replicates)
            del t  # this layer of T goes before the next one is read
        about = {
            "generator": generator,
            "score": name,
            "kind": kind.kind,
            "meaning": kind.meaning,
            "settings": kind.settings(),
            "generated_embeddings": generated,
            "interval": f"95% percentile bootstrap of P and Q ({intervals['replicates']} replicates, seed "
            f"{intervals['seed']})",
            **{k: gen_emb.attrs.get(k) for k in ("weights_source", "weights_sha256", "imageset_sha256")},
        }
        with atomic_path(replicates[name]) as tmp, h5py.File(tmp, "w", locking=False) as f:
            f.create_dataset("value", data=np.stack(curves_b, axis=1), fletcher32=True)
            f.attrs.update(h5_attrs(provenance(layer_names=train_emb.layer_names, **about)))
        write_csv(pd.DataFrame(rows), curves[name], about)
