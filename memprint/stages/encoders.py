"""Encoder stages: train the pipeline's own ViT, fetch pretrained weights, embed an image set (every layer) as it
is or under one of the copy finder's transforms."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from memprint import MemprintError
from memprint.embedding_files import EmbeddingWriter
from memprint.encoders import Encoder, embed_images, load_encoder, save_weights
from memprint.io import ImageSet, atomic_path, read_imageset
from memprint.runtime import precision_used, resolve_device

log = logging.getLogger(__name__)


def train_encoder(
    spec: dict, train_path: str, test_path: str, out: str, summary_out: str, device: str = "auto"
) -> None:
    from memprint.train import train_vit

    train, test = read_imageset(train_path), read_imageset(test_path)
    state, summary = train_vit(spec, train, test, resolve_device(device))
    source = (
        f"trained in pipeline on {train.attrs.get('source')} (train sha256 {train.content_hash()[:16]}, "
        f"seed {spec['seed']})"
    )
    save_weights(out, state, source)
    with atomic_path(summary_out) as tmp:
        Path(tmp).write_text(json.dumps({**summary, "weights_source": source, "spec": spec}, indent=2))
    log.info("trained encoder: %s", summary)


def fetch_encoder_weights(spec: dict, out: str) -> None:
    """Download pretrained weights once (a local rule: compute nodes are often offline)."""
    cls = Encoder.kinds.get(spec["kind"])
    if cls is None:
        raise MemprintError(f"encoder kind {spec['kind']!r} is unknown; use one of {sorted(Encoder.kinds)}")
    try:
        state = cls.hub_state_dict(spec)
    except MemprintError:
        raise
    except Exception as err:
        raise MemprintError(
            f"could not download weights for {spec['kind']}:{spec.get('name')} ({err}); offline, "
            "set the encoder's weights to a local state-dict file"
        ) from err
    hub_id = f"hub:{spec['kind']}/{spec.get('name')}" + (f":{spec['pretrained']}" if spec.get("pretrained") else "")
    extra = {}
    if "state_dict" in state:  # Hugging Face: the config travels with the weights, so nodes need no hub
        state, extra = state["state_dict"], {"hf_config": state["hf_config"]}
    save_weights(out, {k: v.cpu() for k, v in state.items()}, hub_id, **extra)


def embed(
    spec: dict,
    weights: str | None,
    imageset_path: str,
    out: str,
    batch_size: int = 256,
    device: str = "auto",
    progress: bool = True,
    compile_blocks: bool = False,
    shard: tuple[int, int] | None = None,
) -> None:
    """Every layer's embedding of one image set, written resumably to ``out`` (float16, one pass per batch);
    ``compile_blocks``: torch.compile the encoder's blocks first (worth it for large sets on a GPU); ``shard``:
    (i, n) embeds only the i-th of n even runs of rows (``gather_shards`` joins them)."""
    if batch_size < 1:
        raise MemprintError(f"batch size must be >= 1, got {batch_size}")
    started = time.perf_counter()
    dev = resolve_device(device)
    imageset = read_imageset(imageset_path)
    whole_hash = imageset.content_hash()
    if shard is not None:
        rows = slice(*(len(imageset) * k // shard[1] for k in (shard[0], shard[0] + 1)))
        imageset = ImageSet(imageset.images[rows], imageset.labels[rows], imageset.image_ids[rows], imageset.attrs)
    encoder = load_encoder(spec, weights, dev)
    if compile_blocks:
        encoder.compile_blocks()
    import torch

    resume_key = json.dumps([encoder.identity, imageset.content_hash()], sort_keys=True, default=str)
    with torch.inference_mode():
        dims = [t.shape[1] for t in encoder.layer_embeddings(torch.from_numpy(imageset.images[:2]).to(dev))]
    attrs = {
        **encoder.identity,
        "imageset": str(imageset_path),
        "imageset_sha256": whole_hash,  # a shard names the set it is part of
        "preprocess": encoder.preprocess.describe(),
        "pooling": encoder.pooling,
        "precision": precision_used(dev),
        "layer0": "patch_embed: mean of patch tokens entering the first block",
        **({"shard": list(shard)} if shard else {}),
    }
    writer = EmbeddingWriter(out, encoder.layer_names, dims, len(imageset), imageset.image_ids, resume_key, attrs)
    try:
        if writer.rows_done:
            log.info("resuming %s at row %d of %d", out, writer.rows_done, len(imageset))
        embed_images(
            encoder, imageset.images, batch_size, dev, start=writer.rows_done, on_batch=writer.write, progress=progress
        )
        writer.finish(seconds=time.perf_counter() - started)
    finally:
        writer.close()


def embed_transformed(
    *,
    spec: dict,
    weights: str | None,
    imageset: str,
    transform: str,
    out: str,
    batch_size: int = 256,
    device: str = "auto",
) -> None:
    """Every layer's embedding of an image set under ``transform`` (the copy finder's matching), via a transformed
    copy of the image set."""
    import tempfile

    from memprint.io import write_imageset
    from memprint.transforms import apply

    source = read_imageset(imageset)
    attrs = {**source.attrs, "transform": transform, "transformed_from": imageset}
    with tempfile.TemporaryDirectory() as scratch:
        path = str(Path(scratch) / "transformed.h5")
        write_imageset(path, ImageSet(apply(transform, source.images), source.labels, source.image_ids, attrs))
        embed(spec, weights, path, out, batch_size=batch_size, device=device, progress=False)


def gather_shards(shards: list[str], out: str) -> None:
    """The embedding files of an image set's shards (in row order) joined into one chunked file, one shard in
    memory at a time."""
    from memprint.embedding_files import read_embeddings

    def made_by(head) -> list:  # what every shard of one embedding shares
        return [head.layer_names, head.attrs.get("weights_sha256"), head.attrs.get("imageset_sha256")]

    heads = [read_embeddings(path, lazy=True) for path in shards]
    first = heads[0]
    for index, (path, head) in enumerate(zip(shards, heads)):
        if made_by(head) != made_by(first) or json.loads(head.attrs.get("shard", "null")) != [index, len(shards)]:
            raise MemprintError(
                f"{path} is not shard {index} of {len(shards)} of this embedding (layers, weights, image set or "
                "shard differ); re-embed it"
            )
    ids = np.concatenate([head.image_ids for head in heads])
    skip = ("layer_names", "resume_key", "rows_done", "complete", "created_utc", "shard")
    attrs = {**{k: v for k, v in first.attrs.items() if k not in skip}, "gathered_from": shards}
    writer = None
    try:
        for head in heads:
            layers = list(head.layers)
            if writer is None:
                dims = [layer.shape[1] for layer in layers]
                writer = EmbeddingWriter(out, first.layer_names, dims, len(ids), ids, json.dumps(shards), attrs)
            writer.write(writer.rows_done, layers)
        writer.finish()
    finally:
        if writer is not None:
            writer.close()
