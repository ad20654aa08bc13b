"""InvMM stages: invert a diffusion sampler for one shard of the scored images, gather a generator's scores
(the duplicated-image ROC AUC), and show the most and least memorized images."""

from __future__ import annotations

import json
import logging
import time

import numpy as np
import pandas as pd

from memprint import MemprintError, datasets
from memprint.io import read_csv, read_csv_provenance, read_imageset, write_csv
from memprint.runtime import precision_used, resolve_device

log = logging.getLogger(__name__)


def duplicated_and_singles(imageset, originals: list[int], duplicated: set[str], seed: int) -> list[int]:
    """Rows of every duplicated image and of as many single images (class-stratified, seeded), in T's order."""
    is_duplicated = np.array([str(imageset.image_ids[i]) in duplicated for i in originals])
    if not is_duplicated.any() or is_duplicated.sum() * 2 > len(originals):
        raise MemprintError(
            f"invmm.duplicated_and_singles: {int(is_duplicated.sum())} duplicated of {len(originals)} images in T; "
            "it needs data.duplicates with at most half of T's images repeated"
        )
    singles = np.array(originals)[~is_duplicated]
    chosen = singles[datasets.stratified_indices(imageset.labels[singles], int(is_duplicated.sum()), seed, "singles")]
    return sorted(np.array(originals)[is_duplicated].tolist() + chosen.tolist())


def invmm_shard(
    name: str,
    spec: dict,
    weights: str,
    images_path: str,
    invmm: dict,
    shard: int,
    out: str,
    encoder_weights: str | None = None,
    device: str = "auto",
    batch_size: int = 64,
) -> pd.DataFrame:
    """InvMM scores of one shard of the scored images (the image set's originals, extra duplicate copies left
    out; ``invmm['limit']``: a class-stratified subset seeded by the InvMM seed; ``duplicated_and_singles``: the
    duplicated images and as many single ones), with whether each image was duplicated in T."""
    import torch
    from diffusers import DDPMScheduler

    from memprint.generators import generator, shard_bounds
    from memprint.invmm import InvMMSettings, invert, make_similarity

    dev = resolve_device(device)
    imageset = read_imageset(images_path)
    originals = [i for i, image_id in enumerate(imageset.image_ids) if datasets.DUPLICATE_MARK not in image_id]
    if invmm.get("limit") and invmm["limit"] > len(originals):
        raise MemprintError(
            f"invmm limit {invmm['limit']}: {images_path} holds {len(originals)} images to score; lower the limit"
        )
    if invmm.get("limit") and invmm["limit"] < len(originals):
        seed = invmm.get("settings", {}).get("seed", 0)
        originals = np.array(originals)[
            datasets.stratified_indices(imageset.labels[originals], invmm["limit"], seed, "invmm.limit")
        ].tolist()
    duplicated = set(json.loads(imageset.attrs.get("duplicated_ids") or "[]"))
    if invmm.get("duplicated_and_singles"):
        originals = duplicated_and_singles(imageset, originals, duplicated, invmm.get("settings", {}).get("seed", 0))
    start, stop = shard_bounds(len(originals), invmm["shards"], shard)
    unet, schedule, identity = generator(name, spec).load_diffusion(weights)
    schedule = schedule or dict(DDPMScheduler().config)
    similarity = make_similarity(invmm["similarity"], dev, encoder_weights)
    settings = InvMMSettings(**invmm.get("settings", {}))
    rows, started = [], time.perf_counter()
    for first in range(start, stop, batch_size):
        numbers = list(range(first, min(first + batch_size, stop)))
        index = [originals[k] for k in numbers]
        x = torch.from_numpy(imageset.images[index]).permute(0, 3, 1, 2).float().div(127.5).sub(1)
        for k, i, result in zip(numbers, index, invert(unet, schedule, x, similarity, settings, dev, numbers)):
            rows.append(
                {
                    "image": k,
                    "image_id": imageset.image_ids[i],
                    "duplicated": imageset.image_ids[i] in duplicated,
                    **result,
                }
            )
        log.info("InvMM %s: %d of %d images", name, len(rows), stop - start)
    seconds = time.perf_counter() - started
    table = pd.DataFrame(rows)
    write_csv(
        table,
        out,
        {
            "generator": name,
            "weights_used": identity,
            "similarity": similarity.name,
            "settings": settings.__dict__,
            "images": images_path,
            "images_sha256": imageset.attrs.get("content_sha256"),
            "shard": f"{shard}/{invmm['shards']}",
            "seconds": seconds,
            "seconds_per_image": seconds / max(len(rows), 1),
            "batch_size": batch_size,
            "device": str(dev),
            "precision": precision_used(dev),
        },
    )
    return table


def invmm_table(shard_files: list[str], out: str) -> pd.DataFrame:
    """One generator's InvMM scores, gathered; with duplicated training images, the ROC AUC of a low score
    singling them out."""
    from memprint.invmm import roc_auc

    table = pd.concat([read_csv(path) for path in shard_files], ignore_index=True).sort_values("image")
    meta = read_csv_provenance(shard_files[0])
    meta.pop("created_utc", None)
    meta.update(shard=None, seconds=sum(read_csv_provenance(f)["seconds"] for f in shard_files))
    duplicated = table["duplicated"].to_numpy(bool)
    meta["duplicated_auc"] = (
        roc_auc(table["score"].to_numpy(float), duplicated) if duplicated.any() and not duplicated.all() else None
    )
    log.info(
        "InvMM: %d images, %d reproduced, AUC of duplicated images %s",
        len(table),
        table["reproduced"].sum(),
        meta["duplicated_auc"],
    )
    write_csv(table, out, meta)
    return table


def figure_invmm(table_file: str, images_path: str, png: str, pdf: str, shown: int = 8) -> None:
    """The most and the least memorized images by InvMM score, with their scores."""
    from memprint.plots import plot_image_rows

    table = read_csv(table_file).sort_values(["score", "steps"])
    shown = max(1, min(shown, len(table) // 2))
    meta = read_csv_provenance(table_file)
    imageset = read_imageset(images_path)
    position = {image_id: i for i, image_id in enumerate(imageset.image_ids)}
    rows = {"most memorized (lowest score)": table.head(shown), "least memorized (highest score)": table.tail(shown)}
    auc = meta.get("duplicated_auc")
    plot_image_rows(
        {
            title: [
                (imageset.images[position[r.image_id]], f"{r.score:.3f}{' dup' if r.duplicated else ''}")
                for r in block.itertuples()
            ]
            for title, block in rows.items()
        },
        png,
        pdf,
        f"InvMM, {meta.get('generator')}" + (f": duplicated-image ROC AUC {auc:.3f}" if auc else ""),
        f"similarity: {meta.get('similarity')}; weights: {str(meta.get('weights_used'))[:160]}",
    )
