"""Generator stages: sample a generator (or gather its shards), sample one shard of a trained network, fetch a
hub diffusion model, train a zoo model, and summarise every generator."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from memprint import MemprintError
from memprint.generators import gather_shards, generator
from memprint.io import atomic_path, provenance, read_imageset, sha256_file, write_csv, write_imageset
from memprint.runtime import precision_used, resolve_device

log = logging.getLogger(__name__)


def make_generator_samples(
    name: str,
    spec: dict,
    out: str,
    train_path: str | None = None,
    source_path: str | None = None,
    segmenter_path: str | None = None,
    device: str = "auto",
    shard_paths: list[str] | None = None,
) -> None:
    """A generator's image set: its shards gathered (sharded kinds), or fitted and sampled here. Its images must
    have T's size and channels (``train_path``), so that every set is embedded alike."""
    kind = generator(name, spec)
    train = read_imageset(train_path) if train_path else None
    if kind.sharded:
        samples = gather_shards([read_imageset(p) for p in shard_paths or []])
    else:
        from memprint.stages.segmenter import segment_function

        source = read_imageset(source_path) if source_path else None
        segment = segment_function(segmenter_path, resolve_device(device)) if segmenter_path else None
        samples = kind.sample(train if "train" in kind.needs else None, source, segment)
        if segmenter_path:
            samples.attrs["segmenter"] = f"{segmenter_path} (sha256 {sha256_file(segmenter_path)})"
    if train is not None and samples.images.shape[1:] != train.images.shape[1:]:
        (h, w, c), (th, tw, tc) = samples.images.shape[1:], train.images.shape[1:]
        raise MemprintError(
            f"generator {name}: its images are {h}x{w} with {c} channel(s), T's {th}x{tw} with {tc}; "
            "give it images of T's size and channels (resize, or convert grey/RGB)"
        )
    write_imageset(out, samples)
    log.info("%s: %d samples%s", name, len(samples), f" from {len(shard_paths)} shards" if kind.sharded else "")


def sample_shard(
    name: str, spec: dict, shard: int, weights: str, out: str, device: str = "auto", batch_size: int = 256
) -> None:
    """One shard of a trained network; ``weights``: its local weights (configured, fetched or trained here)."""
    started, dev = time.perf_counter(), resolve_device(device)
    samples = generator(name, spec).sample_shard(shard, dev, batch_size, weights)
    seconds = time.perf_counter() - started
    samples.attrs.update(
        sample_seconds=seconds, images_per_second=len(samples) / seconds, precision=precision_used(dev)
    )
    write_imageset(out, samples)
    log.info(
        "%s shard %d: %d images in %.1f s (%.1f images/s)", name, shard, len(samples), seconds, len(samples) / seconds
    )


def fetch_diffusion_model(model: str, out: str) -> None:
    """Save a hub UNet2DModel (and its scheduler config) to a local folder, atomically."""
    from memprint.generators.diffusion import load_unet

    unet, scheduler_config, _ = load_unet(model)
    with atomic_path(out) as tmp:
        unet.save_pretrained(tmp)
        if scheduler_config:
            (Path(tmp) / "scheduler_config.json").write_text(json.dumps(scheduler_config))
        (Path(tmp) / "memprint_source.json").write_text(json.dumps({"hub_id": model}))


def train_zoo_model(
    spec: dict,
    epochs: list[int],
    train_seed: int,
    train_path: str,
    checkpoint_paths: list[str],
    summary_out: str,
    device: str = "auto",
) -> None:
    """Train one zoo model; checkpoints at the configured epochs, training time and losses to a JSON summary."""
    import torch

    from memprint.zoo import train_zoo_model as train

    train_set = read_imageset(train_path)
    train_sha256 = train_set.content_hash()
    paths = dict(zip(epochs, checkpoint_paths))

    dev = resolve_device(device)

    def save(epoch, payload):
        payload.update(train_sha256=train_sha256, precision=precision_used(dev))
        with atomic_path(paths[epoch]) as tmp:
            torch.save(payload, tmp)

    summary = train(spec, train_set.images, train_seed, epochs, dev, save)
    with atomic_path(summary_out) as tmp:
        tmp.write_text(
            json.dumps(
                provenance(
                    spec=spec,
                    seed=train_seed,
                    device=str(dev),
                    precision=precision_used(dev),
                    images=len(train_set),
                    train=train_path,
                    train_sha256=train_sha256,
                    **summary,
                ),
                indent=1,
                default=str,
            )
        )


def generator_summary(
    specs: dict[str, dict],
    imagesets: dict[str, str],
    test_path: str,
    training: dict[str, str],
    inception: str | None,
    out: str,
    device: str = "auto",
    last_layers: dict[str, dict[str, str]] | None = None,
):
    """One row per generator: kind, architecture, weights, training time (zoo runs: ``training`` maps each run to
    its training summary), sampling speed, FID against P in InceptionV3 features (when ``inception`` is given)
    and the Fréchet distance to P in each encoder's last layer (``last_layers``: encoder -> image set -> its
    embedding file, ``test`` included; FD_DINOv2 of Stein et al. 2023 when the encoder is DINOv2)."""
    import pandas as pd

    from memprint import fid
    from memprint.embedding_files import read_embeddings

    last = {
        encoder: {name: read_embeddings(path).layers[-1].astype("float64") for name, path in files.items()}
        for encoder, files in (last_layers or {}).items()
    }
    dev = resolve_device(device)
    network = fid.load_inception(inception) if inception else None
    test_features = fid.inception_features(network, read_imageset(test_path).images, dev) if network else None
    trained = {run: json.loads(Path(path).read_text()) for run, path in training.items()}
    rows = []
    for name, spec in specs.items():
        kind, samples = generator(name, spec), read_imageset(imagesets[name])
        made_here = kind.sharded and kind.weights_source().origin == "trained"
        rows.append(
            {
                "generator": name,
                "kind": kind.kind,
                "architecture": kind.architecture,
                "samples": len(samples),
                "train_seconds": trained.get(kind.run, {}).get("train_seconds") if made_here else None,
                "images_per_second": samples.attrs.get("images_per_second"),
                "fid": (
                    fid.frechet_distance(fid.inception_features(network, samples.images, dev), test_features)
                    if network
                    else None
                ),
                **{f"fd_{e}": fid.frechet_distance(layer[name], layer["test"]) for e, layer in last.items()},
                "weights_used": samples.attrs.get("weights_used", "none (fitted by the pipeline)"),
            }
        )
        log.info("%s: %s", name, rows[-1])
    table = pd.DataFrame(rows)
    write_csv(
        table,
        out,
        {
            "fid_network": f"{inception} (sha256 {sha256_file(inception)})"
            if inception
            else "none configured (fid.inception): FID not computed",
            "fid_reference": test_path,
            "fd_columns": "Fréchet distance to P in the encoder's last layer (CLS token), fd_<encoder>; "
            "FID and FD are biased upwards by small sets: compare sets of equal size",
            "device": str(dev),
        },
    )
    return table
