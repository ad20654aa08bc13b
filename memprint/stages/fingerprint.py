"""Fingerprint baselines on the protocol's seeded splits (the paper's Table 1): the statistics baseline and the
classifiers. The C_T-layer curves of the same sets are in ``stages.fingerprint_curves``."""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from memprint import MemprintError
from memprint.embedding_files import read_embeddings
from memprint.fingerprint import protocol_sets
from memprint.io import atomic_path, read_imageset, sha256_file, write_csv
from memprint.runtime import resolve_device

log = logging.getLogger(__name__)


def fingerprint_statistics(
    imageset_paths: dict[str, str],
    architectures: dict[str, str],
    runs: dict[str, str],
    test_path: str,
    protocol: dict,
    out: str,
    inception: str | None = None,
    encoder: str | None = None,
    embeddings: dict[str, str] | None = None,
    device: str = "auto",
) -> pd.DataFrame:
    """The statistics baseline: every protocol set's pixel mean and std per channel and its Fréchet distance to P,
    in FID InceptionV3 features (``inception``) or in ``encoder``'s last layer (``embeddings``: image set -> file).

    ``seconds`` per set: its statistics plus its images' share of the feature extraction time (reading the
    encoder's embeddings; the table adds the embedding jobs' time).
    """
    from memprint import fid
    from memprint.baselines import set_statistics

    dev = resolve_device(device)
    network = fid.load_inception(inception) if inception else None

    def features(name: str, path: str) -> tuple[np.ndarray, float]:
        started = time.perf_counter()
        if network is not None:
            values = fid.inception_features(network, read_imageset(path).images, dev)
        else:
            values = read_embeddings(embeddings[name]).layers[-1].astype(np.float64)
        return values, time.perf_counter() - started

    test_features, test_seconds = features("test", test_path)
    rows, data = [], {}
    for name, path in imageset_paths.items():
        imageset = read_imageset(path)
        images, data[name] = imageset.images, imageset.attrs.get("content_sha256")
        all_features, feature_seconds = features(name, path)
        for split, role, idx in protocol_sets(len(images), protocol):
            started = time.perf_counter()
            stats = set_statistics(images[idx], all_features[idx], test_features)
            rows.append(
                {
                    "generator": name,
                    "architecture": architectures[name],
                    "run": runs[name],
                    "split": split,
                    "role": role,
                    "set_size": len(idx),
                    **stats,
                    "seconds": time.perf_counter() - started + feature_seconds * len(idx) / len(images),
                }
            )
        log.info("%s: statistics of %d sets", name, sum(r["generator"] == name for r in rows))
    table = pd.DataFrame(rows)
    if network is not None:
        space = f"FID InceptionV3 {inception} (sha256 {sha256_file(inception)})"
    else:
        attrs = read_embeddings(embeddings["test"]).attrs
        space = (
            f"last layer of encoder {encoder} (weights {attrs.get('weights_source')}, "
            f"sha256 {attrs.get('weights_sha256')})"
        )
    write_csv(
        table,
        out,
        {
            "protocol": protocol,
            "fid_features": space,
            "features_encoder": encoder,
            "test_set": test_path,
            "imagesets_sha256": data,
            "test_feature_seconds": test_seconds,
            "device": str(dev),
        },
    )
    return table


def fetch_classifier_weights(spec: dict, out: str) -> None:
    """torchvision's pretrained weights for a classifier baseline, saved on the login node."""
    import torch

    from memprint.baselines import pretrained_state_dict

    with atomic_path(out) as tmp:
        torch.save(pretrained_state_dict(spec["arch"]), tmp)


def fingerprint_classifier(
    name: str,
    spec: dict,
    imageset_paths: dict[str, str],
    architectures: dict[str, str],
    runs: dict[str, str],
    protocol: dict,
    out: str,
    weights: str | None = None,
    device: str = "auto",
) -> pd.DataFrame:
    """A classifier baseline: per split and reference size, train on the reference sets' single images labelled by
    architecture, then give each target set the majority vote of its images."""
    from memprint.baselines import majority_vote, train_classifier
    from memprint.fingerprint import protocol_splits

    dev = resolve_device(device)
    labels = sorted(set(architectures.values()))
    imagesets = {gen: read_imageset(path) for gen, path in imageset_paths.items()}
    sets = {gen: imageset.images for gen, imageset in imagesets.items()}
    n = {len(images) for images in sets.values()}
    if len(n) != 1:
        raise MemprintError(
            f"classifier baseline {name}: generators hold different numbers of samples {sorted(n)}; "
            "give every generator the same `samples`"
        )
    splits = protocol_splits(n.pop(), **protocol)[: spec["splits"]]
    rows, weights_used = [], None
    for split, (target, references) in enumerate(splits):
        for size, ref in references.items():
            started = time.perf_counter()
            images = np.concatenate([sets[gen][ref] for gen in sets])
            y = np.concatenate([np.full(len(ref), labels.index(architectures[gen])) for gen in sets])
            model, weights_used = train_classifier(
                spec,
                images,
                y,
                len(labels),
                dev,
                seed=protocol["seed"] + split,
                batch_size=spec["batch_size"],
                weights=weights,
            )
            votes = {gen: majority_vote(model, sets[gen][target], spec, dev) for gen in sets}
            seconds = time.perf_counter() - started
            for gen, (label, share) in votes.items():
                rows.append(
                    {
                        "split": split,
                        "set_size": size,
                        "target": gen,
                        "architecture": architectures[gen],
                        "run": runs[gen],
                        "match_architecture": labels[label],
                        "vote_share": share,
                        "seconds": seconds,
                    }
                )
            log.info(
                "%s split %d, %d references per generator: %.1f s, accuracy %.3f",
                name,
                split,
                size,
                seconds,
                np.mean([labels[v[0]] == architectures[g] for g, v in votes.items()]),
            )
    table = pd.DataFrame(rows)
    write_csv(
        table,
        out,
        {
            "classifier": name,
            "spec": spec,
            "weights_used": weights_used,
            "protocol": protocol,
            "training_seeds": "protocol seed + split",
            "labels": labels,
            "imagesets_sha256": {gen: s.attrs.get("content_sha256") for gen, s in imagesets.items()},
            "device": str(dev),
        },
    )
    return table
