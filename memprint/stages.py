"""One function per pipeline stage: files in, files out. Snakemake's scripts and the CLI both call these.

Every output is written atomically and records what made it (data hashes, weights source and hash, seeds).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from memprint import MemprintError, datasets
from memprint.ct import CTSettings, LayerReference
from memprint.encoders import Encoder, embed_images, load_encoder, save_weights
from memprint.generators import DEFAULT_SAMPLES, sample_generator
from memprint.io import (
    Embeddings,
    EmbeddingWriter,
    atomic_path,
    h5_attrs,
    open_h5,
    provenance,
    read_embeddings,
    read_imageset,
    sha256_file,
    write_imageset,
)

log = logging.getLogger(__name__)


def start_log(path: str) -> None:
    """Send this process's stderr (warnings, tracebacks, tqdm) and logging to the rule's log file."""
    import sys

    sys.stderr = open(path, "w", buffering=1)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


_held_gpu_lock = None  # open lock file of the GPU this process claimed; released when the process exits


def _claim_free_gpu(count: int) -> int:
    """With several visible GPUs, take the first one no other memprint job holds (one job per card)."""
    global _held_gpu_lock
    import fcntl
    import tempfile

    for index in range(count):
        handle = open(Path(tempfile.gettempdir()) / f"memprint-gpu-{index}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _held_gpu_lock = handle
        return index
    raise MemprintError(f"all {count} GPUs are held by other memprint jobs; limit GPU jobs with --resources gpu={count}")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto``: a free CUDA GPU when there is one (SLURM shows each job only its own), else the CPU."""
    if name == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        count = torch.cuda.device_count()
        return torch.device(f"cuda:{_claim_free_gpu(count) if count > 1 else 0}")
    if name != "cpu" and not (name == "cuda" or name.startswith("cuda:") and name[5:].isdigit()):
        raise MemprintError(f"device {name!r} is unknown; use auto, cpu, cuda or cuda:N")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise MemprintError(f"device {name!r} asked for, but no CUDA GPU is visible; use device: auto or cpu")
    return torch.device(name)


# ------------------------------------------------------------------------------------------------ CSV files

def write_csv(df: pd.DataFrame, path: str | Path, meta: dict) -> None:
    """CSV with one leading ``# provenance: {json}`` line (read back with ``read_csv``)."""
    with atomic_path(path) as tmp, open(tmp, "w") as handle:
        handle.write("# provenance: " + json.dumps(provenance(**meta), sort_keys=True, default=str) + "\n")
        df.to_csv(handle, index=False)


def read_csv(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, comment="#")


def read_csv_provenance(path: str | Path) -> dict:
    with open(path) as handle:
        first = handle.readline()
    return json.loads(first.removeprefix("# provenance: ")) if first.startswith("# provenance: ") else {}


# --------------------------------------------------------------------------------------------- image sets

def make_data(data: dict, train_out: str, test_out: str, heldout_out: str | None = None) -> None:
    """The training set T, the test set P and (``data.heldout``) real images in neither: seeded, stratified."""
    source, seed = data["source"], data["seed"]
    limits = {}
    if source == "digits":
        train, test = datasets.digits_split(data["test_fraction"], seed)
    elif source == "cifar10":
        cfg = data["cifar10"]
        root = cfg.get("root", "results/downloads")
        train, test = datasets.cifar10("train", cfg.get("train_npz"), root), datasets.cifar10("test", cfg.get("test_npz"), root)
        limits = {"train": cfg.get("train_limit"), "test": cfg.get("test_limit")}
    elif source == "folder":
        train, test = datasets.load_folder(data["folder"]["train"]), datasets.load_folder(data["folder"]["test"])
    else:
        raise MemprintError(f"data.source {source!r} is unknown; use digits, cifar10 or folder")
    train = datasets.limited(train, limits.get("train"), seed, f"data.{source}.train_limit")
    test_source, test = test, datasets.limited(test, limits.get("test"), seed + 1, f"data.{source}.test_limit")
    if data.get("duplicates"):
        train = datasets.with_duplicates(train, **data["duplicates"])
    heldout = None
    if heldout_out:
        in_test = set(test.image_ids.tolist())
        rest = np.flatnonzero([i not in in_test for i in test_source.image_ids.tolist()])
        if len(rest) < data["heldout"]:
            raise MemprintError(f"data.heldout: {data['heldout']} images asked for, the test source has {len(rest)} "
                                f"left after P; lower data.heldout or set data.{source}.test_limit")
        rows = datasets.stratified_indices(test_source.labels[rest], data["heldout"], seed + 2, "data.heldout")
        heldout = datasets.subset(test_source, rest[rows], f"class-stratified, seed {seed + 2}, in neither T nor P")
        heldout.attrs["split"] = "heldout"
    write_imageset(train_out, train)
    write_imageset(test_out, test)
    if heldout is not None:
        write_imageset(heldout_out, heldout)
    log.info("train: %d images %s, test: %d images, held out: %d", len(train), train.images.shape[1:], len(test),
             0 if heldout is None else len(heldout))


def make_generator_samples(name: str, spec: dict, train_path: str | None, out: str, source_path: str | None = None,
                           segmenter_path: str | None = None, device: str = "auto",
                           shard_paths: list[str] | None = None) -> None:
    """A generator's image set: its shards gathered (model kinds), or fitted and sampled here."""
    if shard_paths:
        from memprint.models import gather_shards

        samples = gather_shards([read_imageset(p) for p in shard_paths])
        write_imageset(out, samples)
        log.info("%s: %d samples from %d shards", name, len(samples), len(shard_paths))
        return
    train = read_imageset(train_path) if train_path else None  # existing samples need no training set
    source = read_imageset(source_path) if source_path else None
    segment = _segment_function(segmenter_path, resolve_device(device)) if segmenter_path else None
    samples = sample_generator(name, spec, train, int(spec.get("samples", DEFAULT_SAMPLES)), int(spec.get("seed", 0)),
                               source, segment)
    if source is not None:
        samples.attrs["source_sha256"] = source.content_hash()
    if segmenter_path:
        samples.attrs["segmenter"] = f"{segmenter_path} (sha256 {sha256_file(segmenter_path)})"
    write_imageset(out, samples)
    log.info("%s: %d samples", name, len(samples))


def sample_shard(name: str, spec: dict, shard: int, weights: str, out: str, device: str = "auto",
                 batch_size: int = 256) -> None:
    """One shard of a model generator; ``weights``: its local weights (configured, fetched or trained here)."""
    from memprint.models import sample_shard as draw

    started = time.perf_counter()
    samples = draw(name, spec, shard, resolve_device(device), batch_size, weights)
    seconds = time.perf_counter() - started
    samples.attrs.update(sample_seconds=seconds, images_per_second=len(samples) / seconds)
    write_imageset(out, samples)
    log.info("%s shard %d: %d images in %.1f s (%.1f images/s)", name, shard, len(samples), seconds, len(samples) / seconds)


def fetch_diffusion_model(model: str, out: str) -> None:
    """Save a hub UNet2DModel (and its scheduler config) to a local folder, atomically."""
    from memprint.models import load_unet

    unet, scheduler_config, _ = load_unet(model)
    with atomic_path(out) as tmp:
        unet.save_pretrained(tmp)
        if scheduler_config:
            (Path(tmp) / "scheduler_config.json").write_text(json.dumps(scheduler_config))
        (Path(tmp) / "memprint_source.json").write_text(json.dumps({"hub_id": model}))


def train_zoo_model(spec: dict, epochs: list[int], train_seed: int, train_path: str, checkpoint_paths: list[str],
                    summary_out: str, device: str = "auto") -> None:
    """Train one zoo model; checkpoints at the configured epochs, training time and losses to a JSON summary."""
    from memprint.zoo import train_zoo_model as train

    train_set = read_imageset(train_path)
    train_sha256 = train_set.content_hash()
    paths = dict(zip(epochs, checkpoint_paths))

    def save(epoch, payload):
        payload["train_sha256"] = train_sha256
        with atomic_path(paths[epoch]) as tmp:
            torch.save(payload, tmp)

    dev = resolve_device(device)
    summary = train(spec, train_set.images, train_seed, epochs, dev, save)
    with atomic_path(summary_out) as tmp:
        tmp.write_text(json.dumps(provenance(spec=spec, seed=train_seed, device=str(dev), images=len(train_set),
                                             train=train_path, train_sha256=train_sha256, **summary),
                                  indent=1, default=str))


def generator_summary(specs: dict[str, dict], imageset_paths: list[str], test_path: str, training_paths: list[str],
                      inception: str | None, out: str, device: str = "auto") -> pd.DataFrame:
    """One row per generator: kind, architecture, weights, training time (zoo), sampling speed and FID vs P."""
    from memprint import fid

    dev = resolve_device(device)
    network = fid.load_inception(inception) if inception else None
    test_features = fid.inception_features(network, read_imageset(test_path).images, dev) if network else None
    training = {}
    for path in training_paths:
        info = json.loads(Path(path).read_text())
        training[(Path(path).parent.parent.name, info["seed"])] = info
    rows = []
    for (name, spec), path in zip(specs.items(), imageset_paths):
        samples = read_imageset(path)
        trained = training.get((spec.get("model"), spec.get("train_seed")), {}) if spec["kind"] == "zoo" else {}
        rows.append({"generator": name, "kind": spec["kind"], "architecture": spec.get("architecture", spec["kind"]),
                     "samples": len(samples), "train_seconds": trained.get("train_seconds"),
                     "images_per_second": samples.attrs.get("images_per_second"),
                     "fid": (fid.frechet_distance(fid.inception_features(network, samples.images, dev), test_features)
                             if network else None),
                     "weights_used": samples.attrs.get("weights_used", "none (fitted by the pipeline)")})
        log.info("%s: %s", name, rows[-1])
    table = pd.DataFrame(rows)
    write_csv(table, out, {"fid_network": f"{inception} (sha256 {sha256_file(inception)})" if inception else
                           "none configured (fid.inception): FID not computed", "fid_reference": test_path,
                           "device": str(dev)})
    return table


def _segment_function(path: str, dev: torch.device):
    from memprint.segmenter import WeakSegmenter, predict_masks

    payload = torch.load(path, map_location="cpu", weights_only=True)
    model = WeakSegmenter(payload["classes"])
    model.load_state_dict(payload["state_dict"])
    model = model.to(dev).eval()
    return lambda images, labels: predict_masks(model, images, labels, payload["threshold"], dev,
                                                payload["input_size"])[0]


def train_segmenter(spec: dict, train_path: str, test_path: str, out: str, quality_out: str,
                    device: str = "auto") -> None:
    """Train the weakly supervised segmenter on T's labels and measure its masks on the held-out test set."""
    from memprint.segmenter import WeakSegmenter, mask_quality
    from memprint.segmenter import train_segmenter as train_weak_segmenter

    dev = resolve_device(device)
    train, test = read_imageset(train_path), read_imageset(test_path)
    init_state, init = None, "random init (from scratch)"
    if spec.get("init_weights"):
        init_state = torch.load(spec["init_weights"], map_location="cpu", weights_only=True)
        init = f"ImageNet ResNet-18 from {spec['init_weights']} (sha256 {sha256_file(spec['init_weights'])})"
    state = train_weak_segmenter(train, spec, dev, init_state)
    model = WeakSegmenter(spec.get("classes", 10))
    model.load_state_dict(state)
    quality = mask_quality(model.to(dev).eval(), test, spec["threshold"], dev, spec["seed"], spec["input_size"])
    with atomic_path(out) as tmp:
        torch.save({"state_dict": state, "classes": spec.get("classes", 10), "threshold": spec["threshold"],
                    "input_size": spec["input_size"],
                    "memprint_source": f"trained in pipeline, initialisation: {init}"}, tmp)
    with atomic_path(quality_out) as tmp:
        Path(tmp).write_text(json.dumps({**quality, "initialisation": init, "spec": spec,
                                         "train_sha256": train.content_hash()}, indent=2))
    log.info("segmenter mask quality: %s", quality)


# ----------------------------------------------------------------------------------------------- encoders

def train_encoder(spec: dict, train_path: str, test_path: str, out: str, summary_out: str, device: str = "auto") -> None:
    from memprint.train import train_vit

    train, test = read_imageset(train_path), read_imageset(test_path)
    state, summary = train_vit(spec, train, test, resolve_device(device))
    source = f"trained in pipeline on {train.attrs.get('source')} (train sha256 {train.content_hash()[:16]}, seed {spec['seed']})"
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
        raise MemprintError(f"could not download weights for {spec['kind']}:{spec.get('name')} ({err}); offline, "
                            "set the encoder's weights to a local state-dict file") from err
    hub_id = f"hub:{spec['kind']}/{spec.get('name')}" + (f":{spec['pretrained']}" if spec.get("pretrained") else "")
    extra = {}
    if "state_dict" in state:  # Hugging Face: the config travels with the weights, so nodes need no hub
        state, extra = state["state_dict"], {"hf_config": state["hf_config"]}
    save_weights(out, {k: v.cpu() for k, v in state.items()}, hub_id, **extra)


def embed(spec: dict, weights: str | None, imageset_path: str, out: str, batch_size: int = 256,
          device: str = "auto", progress: bool = True, compile_blocks: bool = False) -> None:
    """Every layer's embedding of one image set, written resumably to ``out`` (float16, one pass per batch);
    ``compile_blocks``: torch.compile the encoder's blocks first (worth it for large sets on a GPU)."""
    if batch_size < 1:
        raise MemprintError(f"batch size must be >= 1, got {batch_size}")
    dev = resolve_device(device)
    imageset = read_imageset(imageset_path)
    encoder = load_encoder(spec, weights, dev)
    if compile_blocks:
        encoder.compile_blocks()
    resume_key = json.dumps([encoder.identity, imageset.content_hash()], sort_keys=True, default=str)
    with torch.inference_mode():
        dims = [t.shape[1] for t in encoder.layer_embeddings(torch.from_numpy(imageset.images[:2]).to(dev))]
    attrs = {**encoder.identity, "imageset": str(imageset_path), "imageset_sha256": imageset.content_hash(),
             "preprocess": encoder.preprocess.describe(), "pooling": encoder.pooling,
             "layer0": "patch_embed: mean of patch tokens entering the first block"}
    writer = EmbeddingWriter(out, encoder.layer_names, dims, len(imageset), imageset.image_ids, resume_key, attrs)
    try:
        if writer.rows_done:
            log.info("resuming %s at row %d of %d", out, writer.rows_done, len(imageset))
        embed_images(encoder, imageset.images, batch_size, dev, start=writer.rows_done, on_batch=writer.write,
                     progress=progress)
        writer.finish()
    finally:
        writer.close()


# ----------------------------------------------------------------------------------------------------- C_T

def fit_ct_reference(train_emb: str, test_emb: str, settings: CTSettings, out: str, device: str = "auto") -> None:
    """Per layer: projection, KMeans cells on T, P's cells and distances; reused by every generator's score."""
    train, test = read_embeddings(train_emb), read_embeddings(test_emb)
    if train.layer_names != test.layer_names:
        raise MemprintError(f"{train_emb} and {test_emb} hold different layers; re-embed both with one encoder")
    dev = resolve_device(device)
    import h5py

    with atomic_path(out) as tmp, h5py.File(tmp, "w", locking=False) as f:
        for name, t, p in zip(train.layer_names, train.layers, test.layers):
            ref = LayerReference.fit(t, p, settings, dev, layer=name)
            group = f.create_group(name)
            for key, value in ref.state().items():
                group.create_dataset(key, data=value)
            group.attrs["warning"] = ref.warning
        f.attrs.update(h5_attrs(provenance(settings=settings.__dict__, layer_names=train.layer_names,
                                  train_embeddings=train_emb, test_embeddings=test_emb,
                                  **{k: train.attrs[k] for k in ("weights_source", "weights_sha256") if k in train.attrs})))


def load_ct_reference(path: str, train: Embeddings) -> tuple[list[LayerReference], CTSettings]:
    """The per-layer references fit by ``fit_ct_reference``, re-attached to the training embeddings."""
    with open_h5(path) as f:
        settings = CTSettings(**json.loads(f.attrs["settings"]))
        names = json.loads(f.attrs["layer_names"])
        if names != train.layer_names:
            raise MemprintError(f"{path} was fit on layers {names}, the training embeddings hold {train.layer_names}")
        refs = [LayerReference.from_state({k: v[()] for k, v in f[name].items()}, layer, settings,
                                           str(f[name].attrs["warning"]))
                for name, layer in zip(names, train.layers)]
    return refs, settings


def score_layers(refs: list[LayerReference], names: list[str], generated: list[np.ndarray], dev,
                 bootstrap: dict | None = None) -> tuple[pd.DataFrame, np.ndarray | None, list]:
    """One row per layer; ``bootstrap`` ({replicates, seed, generator}) adds 95% intervals (``ct_low``,
    ``ct_high``) and returns the (replicates, layers) bootstrap curves, else None; and per layer Q's
    (cells, distances, nearest training rows), None where C_T is undefined, for the copy finder."""
    from memprint.ct_interval import bootstrap_ct, percentile_interval, resample_counts

    rows, curves, neighbours = [], [], []
    if bootstrap:
        test_counts = resample_counts(len(refs[0].test_cells), bootstrap["replicates"], bootstrap["seed"], "test")
        gen_counts = resample_counts(len(generated[0]), bootstrap["replicates"], bootstrap["seed"],
                                     f"generated:{bootstrap['generator']}")
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
            row["ct_low"], row["ct_high"] = (float(v) for v in percentile_interval(replicate)) if np.isfinite(
                replicate).any() else (np.nan, np.nan)
        rows.append({**row, "tau": result.tau,
                     "cells_used": result.cells_used, "cells": len(result.z_per_cell),
                     "n_test": len(ref.test_cells), "n_generated": len(q),
                     "min_generated_in_used_cell": min((g for g, z in zip(result.generated_per_cell, result.z_per_cell)
                                                        if z is not None), default=0),
                     "generated_per_cell": json.dumps(result.generated_per_cell),
                     "test_per_cell": json.dumps(result.test_per_cell),
                     "z_per_cell": json.dumps(result.z_per_cell), "warning": result.warning})
    return pd.DataFrame(rows), (np.stack(curves, axis=1) if bootstrap else None), neighbours


def ct_curve(references: list[str], train_emb: str, generated_emb: str, curve_outs: list[str],
             replicate_outs: list[str], generator: str, intervals: dict, device: str = "auto",
             copies_out: str | None = None, copy_threshold: float = 0.01) -> None:
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
        df, replicates, neighbours = score_layers(refs, train.layer_names, generated.layers, dev,
                                                  {**intervals, "generator": generator})
        meta = {"generator": generator, "generated_embeddings": generated_emb, "ct_settings": settings.__dict__,
                "interval": f"95% percentile bootstrap of P and Q over fixed cells ({intervals['replicates']} "
                            f"replicates, seed {intervals['seed']})",
                **{k: generated.attrs.get(k) for k in ("weights_source", "weights_sha256", "imageset_sha256")}}
        with atomic_path(replicates_out) as tmp, h5py.File(tmp, "w", locking=False) as f:
            f.create_dataset("ct", data=replicates, fletcher32=True)
            f.attrs.update(h5_attrs(provenance(layer_names=train.layer_names, **meta)))
        write_csv(df, out, meta)
        if index == 0 and copies_out:
            frames = [copies_frame(ref, found, train.image_ids, generated.image_ids, layer, name, copy_threshold)
                      for layer, (name, ref, found) in enumerate(zip(train.layer_names, refs, neighbours))
                      if found is not None]
            write_csv(pd.concat(frames, ignore_index=True), copies_out,
                      {**meta, "copy_threshold": copy_threshold,
                       "score": "mid-rank percentile of the nearest-training distance among the test set's in the "
                                "same cell (uniform for held-out images)"})


def _protocol_sets(n: int, protocol: dict):
    """(split, role, indices) of every set the protocol draws from ``n`` samples."""
    from memprint.fingerprint import protocol_splits

    for split, (target, references) in enumerate(protocol_splits(n, **protocol)):
        yield split, "target", target
        for idx in references.values():
            yield split, "reference", idx


def fingerprint_curves(references: list[str], train_emb: str, generated_emb: str, encoder: str, generator: str,
                       architecture: str, run: str, protocol: dict, outs: list[str], device: str = "auto") -> None:
    """C_T-layer curves of one generator's target and reference sets over the protocol's seeded splits, under
    each C_T setting (one reference file and one output each)."""
    train, generated = read_embeddings(train_emb), read_embeddings(generated_emb)
    dev = resolve_device(device)
    for reference, out in zip(references, outs, strict=True):
        refs, settings = load_ct_reference(reference, train)
        frames = []
        for split, role, idx in _protocol_sets(len(generated.image_ids), protocol):
            started = time.perf_counter()
            df, _, _ = score_layers(refs, train.layer_names, [layer[idx] for layer in generated.layers], dev)
            frames.append(df[["layer", "layer_name", "ct"]].assign(
                encoder=encoder, generator=generator, architecture=architecture, run=run, split=split, role=role,
                set_size=len(idx), n_samples=len(generated.image_ids), seconds=time.perf_counter() - started))
        write_csv(pd.concat(frames, ignore_index=True), out,
                  {"generated_embeddings": generated_emb, "ct_settings": settings.__dict__, "protocol": protocol,
                   **{k: generated.attrs.get(k) for k in ("weights_source", "weights_sha256")}})


def fingerprint_statistics(imageset_paths: dict[str, str], architectures: dict[str, str], runs: dict[str, str],
                           test_path: str, protocol: dict, out: str, inception: str | None = None,
                           encoder: str | None = None, embeddings: dict[str, str] | None = None,
                           device: str = "auto") -> pd.DataFrame:
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
        for split, role, idx in _protocol_sets(len(images), protocol):
            started = time.perf_counter()
            stats = set_statistics(images[idx], all_features[idx], test_features)
            rows.append({"generator": name, "architecture": architectures[name], "run": runs[name], "split": split,
                         "role": role, "set_size": len(idx), **stats,
                         "seconds": time.perf_counter() - started + feature_seconds * len(idx) / len(images)})
        log.info("%s: statistics of %d sets", name, sum(r["generator"] == name for r in rows))
    table = pd.DataFrame(rows)
    if network is not None:
        space = f"FID InceptionV3 {inception} (sha256 {sha256_file(inception)})"
    else:
        attrs = read_embeddings(embeddings["test"]).attrs
        space = (f"last layer of encoder {encoder} (weights {attrs.get('weights_source')}, "
                 f"sha256 {attrs.get('weights_sha256')})")
    write_csv(table, out, {"protocol": protocol, "fid_features": space, "features_encoder": encoder, "test_set": test_path,
                           "imagesets_sha256": data, "test_feature_seconds": test_seconds, "device": str(dev)})
    return table


def fetch_classifier_weights(spec: dict, out: str) -> None:
    """torchvision's pretrained weights for a classifier baseline, saved on the login node."""
    from memprint.baselines import pretrained_state_dict

    with atomic_path(out) as tmp:
        torch.save(pretrained_state_dict(spec["arch"]), tmp)


def fingerprint_classifier(name: str, spec: dict, imageset_paths: dict[str, str], architectures: dict[str, str],
                           runs: dict[str, str], protocol: dict, out: str, weights: str | None = None,
                           device: str = "auto") -> pd.DataFrame:
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
        raise MemprintError(f"classifier baseline {name}: generators hold different numbers of samples {sorted(n)}; "
                            "give every generator the same `samples`")
    splits = protocol_splits(n.pop(), **protocol)[:spec["splits"]]
    rows, weights_used = [], None
    for split, (target, references) in enumerate(splits):
        for size, ref in references.items():
            started = time.perf_counter()
            images = np.concatenate([sets[gen][ref] for gen in sets])
            y = np.concatenate([np.full(len(ref), labels.index(architectures[gen])) for gen in sets])
            model, weights_used = train_classifier(spec, images, y, len(labels), dev, seed=protocol["seed"] + split,
                                                   batch_size=spec["batch_size"], weights=weights)
            votes = {gen: majority_vote(model, sets[gen][target], spec, dev) for gen in sets}
            seconds = time.perf_counter() - started
            for gen, (label, share) in votes.items():
                rows.append({"split": split, "set_size": size, "target": gen, "architecture": architectures[gen],
                             "run": runs[gen], "match_architecture": labels[label], "vote_share": share,
                             "seconds": seconds})
            log.info("%s split %d, %d references per generator: %.1f s, accuracy %.3f", name, split, size, seconds,
                     np.mean([labels[v[0]] == architectures[g] for g, v in votes.items()]))
    table = pd.DataFrame(rows)
    write_csv(table, out, {"classifier": name, "spec": spec, "weights_used": weights_used, "protocol": protocol,
                           "training_seeds": "protocol seed + split", "labels": labels,
                           "imagesets_sha256": {gen: s.attrs.get("content_sha256") for gen, s in imagesets.items()},
                           "device": str(dev)})
    return table


def _benchmark_seconds(path: str) -> float:
    return float(pd.read_csv(path, sep="\t")["s"].sum())


def fingerprint_table(curve_files: list[str], statistics_file: str, classifier_files: list[str],
                      embed_benchmarks: dict[str, list[str]], reference_benchmarks: dict[str, str],
                      matches_out: str, table_out: str, markdown_out: str, open_set_out: str,
                      seed: int = 0) -> pd.DataFrame:
    """Table 1 and beyond: closed-set and leave-one-model-out accuracy with 95% cluster-bootstrap intervals,
    open-set ROC, and wall time per method for one split (``embed_benchmarks``: encoder -> benchmark files of
    embedding T, P and every generator, ``reference_benchmarks``: encoder -> the C_T reference job's)."""
    from memprint.fingerprint import (
        accuracy_rows,
        closed_set,
        curve_matrix,
        leave_one_model_out,
        open_set,
        pair_scores,
        roc,
    )

    curve_tables = [read_csv(path) for path in curve_files]
    curves = pd.concat(curve_tables, ignore_index=True)
    curve_file_of = {table["encoder"].iloc[0]: path for table, path in reversed(list(zip(curve_tables, curve_files)))}
    statistics = read_csv(statistics_file)
    feature_sets = {f"C_T-layer ({encoder})": curve_matrix(block) for encoder, block in curves.groupby("encoder")}
    stat_columns = [c for c in statistics.columns if c.startswith(("mean_c", "std_c")) or c == "fid"]
    feature_sets["statistics (mean, std, FID)"] = statistics.set_index(
        ["generator", "architecture", "run", "split", "role", "set_size"])[stat_columns]

    set_seconds = {f"C_T-layer ({encoder})": block.drop_duplicates(
        ["generator", "split", "role", "set_size"])[["generator", "split", "role", "set_size", "seconds"]]
        for encoder, block in curves.groupby("encoder")}
    set_seconds["statistics (mean, std, FID)"] = statistics[["generator", "split", "role", "set_size", "seconds"]]
    # what each method pays once, and the encoder whose embedding time it pays per image (from benchmark files)
    embed_seconds = {encoder: {Path(f).stem: _benchmark_seconds(f) for f in files}
                     for encoder, files in embed_benchmarks.items()}
    fixed_seconds = {f"C_T-layer ({encoder})": seconds["train"] + seconds["test"]
                     + _benchmark_seconds(reference_benchmarks[encoder]) for encoder, seconds in embed_seconds.items()}
    per_image_encoder = {f"C_T-layer ({encoder})": encoder for encoder in embed_benchmarks}
    stats_meta = read_csv_provenance(statistics_file)
    fixed_seconds["statistics (mean, std, FID)"] = stats_meta["test_feature_seconds"]
    if stats_meta.get("features_encoder"):
        encoder = stats_meta["features_encoder"]
        per_image_encoder["statistics (mean, std, FID)"] = encoder
        fixed_seconds["statistics (mean, std, FID)"] += embed_seconds[encoder]["test"]
    sample_counts = curves.groupby("generator")["n_samples"].first()

    evaluations, open_tables = [], []
    for method, sets in feature_sets.items():
        scores = pair_scores(sets)
        for evaluation, matches in (("closed set", closed_set(scores)),
                                    ("leave one model out", leave_one_model_out(scores))):
            evaluations.append(matches.rename(columns={"method": "matching"}).assign(method=method,
                                                                                      evaluation=evaluation))
        for (matching, size), block in open_set(scores).groupby(["method", "set_size"]):
            curve, auc = roc(block)
            open_tables.append(curve.assign(method=method, matching=matching, set_size=size, auc=auc))
    for path in classifier_files:
        votes = read_csv(path)
        name = read_csv_provenance(path)["classifier"]
        evaluations.append(votes.assign(method=f"classifier ({name})", matching="majority vote",
                                        evaluation="closed set", match=None, score=votes["vote_share"],
                                        correct=votes["match_architecture"] == votes["architecture"]))
    matches = pd.concat(evaluations, ignore_index=True)
    table = accuracy_rows(matches, ["evaluation", "method", "matching", "set_size"], seed=seed)

    def wall(row) -> float:
        if row["method"] in set_seconds:
            sets = set_seconds[row["method"]]
            split0 = sets[(sets["split"] == 0) & ((sets["role"] == "target") | (sets["set_size"] == row["set_size"]))]
            embed_share = 0.0
            if row["method"] in per_image_encoder:  # embedding the generators' images, prorated per image
                seconds = embed_seconds[per_image_encoder[row["method"]]]
                embed_share = sum(seconds[g] / sample_counts[g] * n
                                  for g, n in split0.groupby("generator")["set_size"].sum().items())
            return fixed_seconds[row["method"]] + split0["seconds"].sum() + embed_share
        block = matches[(matches["method"] == row["method"]) & (matches["set_size"] == row["set_size"])]
        return float(block.loc[block["split"] == 0, "seconds"].iloc[0])

    table["wall_seconds_one_split"] = table.apply(wall, axis=1)
    open_curves = pd.concat(open_tables, ignore_index=True)
    first_curve = {encoder: read_csv_provenance(path) for encoder, path in curve_file_of.items()}
    meta = {"curve_files": curve_files, "statistics": statistics_file, "classifiers": classifier_files,
            "encoder_weights": {encoder: f"{m.get('weights_source')} (sha256 {m.get('weights_sha256')})"
                                for encoder, m in first_curve.items()},
            "protocol": next(iter(first_curve.values())).get("protocol"),
            "layers": "1..L (layer 0 left out)", "interval": "95% percentile bootstrap over generators (2000)",
            "bootstrap_seed": seed,
            "wall_seconds_one_split": "split 0: building its database and matching its targets, fixed costs "
                                      "(T and P embeddings, C_T reference, P's features) included; embedding time "
                                      "from the embed jobs' benchmark files (process start included), prorated "
                                      "per image"}
    write_csv(matches, matches_out, meta)
    write_csv(table, table_out, meta)
    write_csv(open_curves, open_set_out, meta)
    auc = open_curves.drop_duplicates(["method", "matching", "set_size"])
    with atomic_path(markdown_out) as tmp:
        Path(tmp).write_text(table1_markdown(table, auc))
    return table


def table1_markdown(table: pd.DataFrame, auc: pd.DataFrame) -> str:
    """Table 1 as Markdown: accuracy (95% interval) over all splits, split 0 alone, and seconds, per size."""
    lines = []
    for evaluation, block in table.groupby("evaluation", sort=False):
        sizes = sorted(block["set_size"].unique())
        lines += [f"**{evaluation}**", "", "| method | matching | " + " | ".join(
            f"{s} refs: accuracy [95% CI] | split 0 | time (s)" for s in sizes) + " |",
                  "|---|---|" + "---|---|---|" * len(sizes)]
        for (method, matching), rows in block.groupby(["method", "matching"], sort=False):
            cells = []
            for size in sizes:
                row = rows[rows["set_size"] == size]
                if row.empty:
                    cells += ["–", "–", "–"]
                    continue
                r = row.iloc[0]
                cells += [f"{r.accuracy:.3f} [{r.ci_low:.2f}, {r.ci_high:.2f}] (n={r.targets})",
                          f"{r.accuracy_split0:.3f}", f"{r.wall_seconds_one_split:.1f}"]
            lines.append(f"| {method} | {matching} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["**open set** (a target's best score with its architecture in the database vs removed): ROC AUC", "",
              "| method | matching | reference size | AUC |", "|---|---|---|---|"]
    lines += [f"| {r.method} | {r.matching} | {r.set_size} | {r.auc:.3f} |" for r in auc.itertuples()]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------- figures

def _curves_with_provenance(curve_files: list[str]) -> tuple[pd.DataFrame, str]:
    frames = [read_csv(path).assign(generator=Path(path).stem) for path in curve_files]
    meta = read_csv_provenance(curve_files[0])
    settings = meta.get("ct_settings", {})
    footnote = (f"bands: {meta['interval']}; " if meta.get("interval") else "") + (
                f"weights: {meta.get('weights_source')} (sha256 {str(meta.get('weights_sha256'))[:12]}); "
                f"C_T cells={settings.get('cells')}, distance={settings.get('distance')}, pca={settings.get('pca_dim')}")
    return pd.concat(frames, ignore_index=True), footnote


def figure_ct_curves(curve_files: list[str], encoder: str, png: str, pdf: str) -> None:
    from memprint.plots import plot_ct_curves

    curves, footnote = _curves_with_provenance(curve_files)
    plot_ct_curves(curves, png, pdf, f"C_T-layer curves, encoder {encoder}", footnote)


def figure_curve_similarity(curve_files: list[str], encoder: str, architectures: dict[str, str], png: str, pdf: str,
                            statistic_out: str) -> None:
    """Paper figure 6b: cosine similarity between every generator's (checkpoint's) curve, with the mean intra-
    minus inter-architecture similarity and its 95% interval (also written to ``statistic_out``)."""
    from memprint.fingerprint import intra_minus_inter, similarity_matrix
    from memprint.plots import plot_similarity_heatmap

    curves, footnote = _curves_with_provenance(curve_files)
    similarity = similarity_matrix(curves)
    seed = 0
    try:
        stat = intra_minus_inter(similarity, architectures, seed=seed)
        headline = (f"intra - inter architecture: {stat['intra_minus_inter']:.3f} "
                    f"[{stat['ci_low']:.3f}, {stat['ci_high']:.3f}]")
    except MemprintError as err:
        stat, headline = {"intra_minus_inter": None, "reason": str(err)}, "intra - inter: n/a (one generator per architecture)"
    write_csv(pd.DataFrame([{"encoder": encoder, **stat}]), statistic_out,
              {"curve_files": curve_files, "interval": "95% percentile bootstrap over generators (2000)",
               "bootstrap_seed": seed})
    plot_similarity_heatmap(similarity, png, pdf, f"C_T-layer curve cosine similarity (layers 1..L), {encoder}\n"
                            f"{headline}", footnote, architectures)


def _fingerprint_footnote(path: str) -> str:
    meta = read_csv_provenance(path)
    return f"data: {path}; encoder weights: {meta.get('encoder_weights')}; protocol: {meta.get('protocol')}"


def figure_fingerprint_confusion(matches_file: str, png: str, pdf: str) -> None:
    """Confusion matrices of closed-set matching at the largest reference size, one panel per method."""
    from memprint.plots import plot_confusion

    matches = read_csv(matches_file)
    closed = matches[matches["evaluation"] == "closed set"]
    closed = closed[closed["set_size"] == closed["set_size"].max()]
    closed = closed[closed["matching"].isin(["combined", "majority vote"])]
    plot_confusion(closed, png, pdf, f"fingerprint confusion, {closed['set_size'].max()} reference images, all splits",
                   _fingerprint_footnote(matches_file))


def figure_fingerprint_open_set(open_set_file: str, png: str, pdf: str) -> None:
    """ROC of open-set rejection at the largest reference size."""
    from memprint.plots import plot_open_set

    curves = read_csv(open_set_file)
    curves = curves[curves["set_size"] == curves["set_size"].max()]
    plot_open_set(curves, png, pdf, f"open-set rejection, {curves['set_size'].max()} reference images",
                  f"{_fingerprint_footnote(open_set_file)}; known: the target's architecture in the database; "
                  "unknown: removed")


def figure_copies(copy_files: dict[str, str], imagesets: dict[str, str], train_path: str, encoder: str,
                  rates_out: str, png: str, pdf: str, pairs_png: str, pairs_pdf: str, shown: int = 6) -> None:
    """Copy rate by layer (95% Wilson intervals) of every generator, written to ``rates_out`` and drawn, and the
    ``shown`` most-copied pairs at block 1 and at the last layer."""
    from memprint.copies import copy_rates
    from memprint.plots import plot_copy_rates, plot_image_rows

    table = pd.concat([read_csv(path).assign(generator=g) for g, path in copy_files.items()], ignore_index=True)
    meta = read_csv_provenance(next(iter(copy_files.values())))
    threshold = float(meta["copy_threshold"])
    rates = copy_rates(table)
    write_csv(rates, rates_out, {"copy_files": copy_files, "copy_threshold": threshold,
                                 "interval": "95% Wilson score interval"})
    footnote = (f"copy: distance to the nearest training image below the {threshold:.0%} percentile of the test "
                f"set's in its C_T cell (C_T settings {meta.get('ct_settings')}); weights: {meta.get('weights_source')}")
    plot_copy_rates(rates, threshold, png, pdf, f"copy rate by layer, encoder {encoder}", footnote)

    train = read_imageset(train_path)
    train_row = {image_id: i for i, image_id in enumerate(train.image_ids)}
    sets = {g: read_imageset(path) for g, path in imagesets.items()}
    sample_row = {g: {image_id: i for i, image_id in enumerate(s.image_ids)} for g, s in sets.items()}
    layers = sorted(table["layer"].unique())
    rows = {}
    for layer in dict.fromkeys((1 if 1 in layers else layers[0], layers[-1])):
        pairs = []
        for pick in table[table["layer"] == layer].nsmallest(shown, ["score", "distance"]).itertuples():
            pairs += [(sets[pick.generator].images[sample_row[pick.generator][pick.sample_id]], pick.generator),
                      (train.images[train_row[pick.nearest_train_id]], f"T, d={pick.distance:.3g}")]
        rows[f"layer {layer}"] = pairs
    plot_image_rows(rows, pairs_png, pairs_pdf, f"most-copied pairs (generated | nearest training image), {encoder}",
                    footnote)


def copies_validation(reference: str, train_emb: str, fresh_emb: str, train_images: str, encoder_spec: dict,
                      encoder_weights: str | None, settings: dict, threshold: float, replicates: int, out: str,
                      png: str, pdf: str, device: str = "auto", batch_size: int = 64) -> pd.DataFrame:
    """Planted exact, rotated and recoloured copies among a perfect generator's samples (``fresh_emb``):
    the copy finder's AUC and copy rate, and C_T of the mix, by layer (``memprint.copies_validation``)."""
    from memprint.copies_validation import planted_copies_table
    from memprint.plots import plot_copies_validation

    train, fresh, images = read_embeddings(train_emb), read_embeddings(fresh_emb), read_imageset(train_images)
    if list(images.image_ids) != list(train.image_ids):
        raise MemprintError(f"{train_images} and {train_emb} hold different images; re-embed the training set")
    refs, ct_settings = load_ct_reference(reference, train)
    dev = resolve_device(device)
    encoder = load_encoder(encoder_spec, encoder_weights, dev)
    table = planted_copies_table(refs, train.layer_names, train.layers, fresh.layers, images.images, encoder,
                                 settings, threshold, replicates, dev, batch_size)
    meta = {"fresh_embeddings": fresh_emb, "settings": settings, "copy_threshold": threshold,
            "ct_settings": ct_settings.__dict__, "weights_source": train.attrs.get("weights_source"),
            "intervals": f"copy rate: 95% Wilson; C_T: 95% bootstrap ({replicates} replicates)"}
    write_csv(table, out, meta)
    plot_copies_validation(table, threshold, png, pdf,
                           f"{settings['fraction']:.0%} planted copies among held-out images "
                           f"(rotated {settings['rotate']} deg, hue {settings['hue']} deg)",
                           f"weights: {meta['weights_source']}; C_T settings {ct_settings.__dict__}")
    return table


# -------------------------------------------------------------------------------------------- claims, docs

def claims(curve_files: dict[str, dict[str, dict[str, str]]], specs: dict[str, dict], architectures: dict[str, str],
           baseline: str | None, fingerprint_files: dict[str, list[str]], statistics_file: str | None, seed: int,
           csv_out: str, markdown_out: str) -> pd.DataFrame:
    """The claims table: ``curve_files`` maps each C_T setting to generator -> {curve, replicates} files,
    ``fingerprint_files`` each setting to its fingerprint curve files (empty without a fingerprint protocol)."""
    import h5py

    from memprint.claims import Curve, claims_markdown, claims_table

    statistics = read_csv(statistics_file) if statistics_file else None
    tables = []
    for setting, generators in curve_files.items():
        curves = {}
        for generator, files in generators.items():
            with h5py.File(files["replicates"], "r", locking=False) as f:
                replicates = f["ct"][()]
            curves[generator] = Curve(read_csv(files["curve"])["ct"].to_numpy(float), replicates)
        described = read_csv_provenance(next(iter(generators.values()))["curve"])["ct_settings"]
        fingerprints = (pd.concat([read_csv(p) for p in fingerprint_files[setting]], ignore_index=True)
                        if fingerprint_files.get(setting) else None)
        table = claims_table(curves, specs, architectures, baseline, fingerprints, statistics, seed)
        tables.append(table.assign(setting=f"{setting} ({described['cells']} cells, PCA {described['pca_dim']}, "
                                           f"{described['distance']})"))
    table = pd.concat(tables, ignore_index=True)
    meta = {"baseline": baseline, "seed": seed, "curve_files": curve_files, "statistics": statistics_file,
            "verdicts": "confirmed: 95% interval on the claimed side of 0; contradicted: on the other side; else "
                        "inconclusive"}
    write_csv(table, csv_out, meta)
    with atomic_path(markdown_out) as tmp:
        Path(tmp).write_text(claims_markdown(table))
    return table


def publish_results(files: dict[str, str], curve_tables: dict[str, list[str]], benchmark_folder: str, folder: str,
                    summary_out: str) -> None:
    """Copy a run's tables and PNG figures to ``folder`` (committed documentation), write its C_T tables
    (``curve_tables``: file name -> curve files) and a timing table per stage: every job's benchmark file under
    ``benchmark_folder``, summed per rule."""
    import shutil

    from memprint.docs import ct_table

    for name, path in files.items():
        with atomic_path(Path(folder) / name) as tmp:
            shutil.copyfile(path, tmp)
    for name, curve_files in curve_tables.items():
        with atomic_path(Path(folder) / name) as tmp:
            Path(tmp).write_text(ct_table(curve_files))
    seconds: dict[str, list[float]] = {}
    for path in sorted(Path(benchmark_folder).rglob("*.tsv")):
        rule = path.relative_to(benchmark_folder).parts[0].removesuffix(".tsv")
        seconds.setdefault(rule, []).append(_benchmark_seconds(path))
    lines = ["| stage (rule) | jobs | seconds, all jobs | seconds, largest job |", "| --- | --- | --- | --- |"]
    lines += [f"| {rule} | {len(v)} | {sum(v):.0f} | {max(v):.0f} |"
              for rule, v in sorted(seconds.items(), key=lambda kv: -sum(kv[1]))]
    total = sum(sum(v) for v in seconds.values())
    lines.append(f"| all | {sum(len(v) for v in seconds.values())} | {total:.0f} | |")
    with atomic_path(summary_out) as tmp:
        Path(tmp).write_text("Job times from the run's benchmark files (process start-up included; jobs ran one "
                             "after another on 2 cores, so the wall time is close to the total).\n\n"
                             + "\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------------------- InvMM

def invmm_shard(name: str, spec: dict, weights: str, images_path: str, invmm: dict, shard: int, out: str,
                encoder_weights: str | None = None, device: str = "auto", batch_size: int = 64) -> pd.DataFrame:
    """InvMM scores of one shard of the scored images (the image set's originals, extra duplicate copies left
    out; ``invmm['limit']``: a class-stratified subset seeded by the InvMM seed), with whether each image was
    duplicated in T."""
    from diffusers import DDPMScheduler

    from memprint.invmm import InvMMSettings, invert, make_similarity
    from memprint.models import load_diffusion, shard_bounds

    dev = resolve_device(device)
    imageset = read_imageset(images_path)
    originals = [i for i, image_id in enumerate(imageset.image_ids) if datasets.DUPLICATE_MARK not in image_id]
    if invmm.get("limit") and invmm["limit"] < len(originals):
        seed = invmm.get("settings", {}).get("seed", 0)
        originals = np.array(originals)[datasets.stratified_indices(imageset.labels[originals], invmm["limit"], seed,
                                                                    "invmm.limit")].tolist()
    start, stop = shard_bounds(len(originals), invmm["shards"], shard)
    duplicated = set(json.loads(imageset.attrs.get("duplicated_ids") or "[]"))
    unet, schedule, identity = load_diffusion(spec, weights)
    schedule = schedule or dict(DDPMScheduler().config)
    similarity = make_similarity(invmm["similarity"], dev, encoder_weights)
    settings = InvMMSettings(**invmm.get("settings", {}))
    rows, started = [], time.perf_counter()
    for first in range(start, stop, batch_size):
        numbers = list(range(first, min(first + batch_size, stop)))
        index = [originals[k] for k in numbers]
        x = torch.from_numpy(imageset.images[index]).permute(0, 3, 1, 2).float().div(127.5).sub(1)
        for k, i, result in zip(numbers, index, invert(unet, schedule, x, similarity, settings, dev, numbers)):
            rows.append({"image": k, "image_id": imageset.image_ids[i], "duplicated": imageset.image_ids[i] in duplicated,
                         **result})
        log.info("InvMM %s: %d of %d images", name, len(rows), stop - start)
    seconds = time.perf_counter() - started
    table = pd.DataFrame(rows)
    write_csv(table, out, {"generator": name, "weights_used": identity, "similarity": similarity.name,
                           "settings": settings.__dict__, "images": images_path,
                           "images_sha256": imageset.attrs.get("content_sha256"), "shard": f"{shard}/{invmm['shards']}",
                           "seconds": seconds, "seconds_per_image": seconds / max(len(rows), 1),
                           "batch_size": batch_size, "device": str(dev)})
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
    meta["duplicated_auc"] = (roc_auc(table["score"].to_numpy(float), duplicated)
                              if duplicated.any() and not duplicated.all() else None)
    log.info("InvMM: %d images, %d reproduced, AUC of duplicated images %s", len(table), table["reproduced"].sum(),
             meta["duplicated_auc"])
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
    plot_image_rows({title: [(imageset.images[position[r.image_id]],
                              f"{r.score:.3f}{' dup' if r.duplicated else ''}") for r in block.itertuples()]
                     for title, block in rows.items()}, png, pdf,
                    f"InvMM, {meta.get('generator')}" + (f": duplicated-image ROC AUC {auc:.3f}" if auc else ""),
                    f"similarity: {meta.get('similarity')}; weights: {str(meta.get('weights_used'))[:160]}")


def figure_ct_settings(curve_files: dict[str, list[str]], encoder: str, png: str, pdf: str) -> None:
    """Paper figure 5 analog: the C_T-layer curves of all generators, one panel per C_T setting."""
    from memprint.plots import plot_ct_panels

    panels, footnote = {}, None
    for name, files in curve_files.items():
        curves, note = _curves_with_provenance(files)
        footnote = footnote or note  # the weights (shared); each panel's title names its setting
        settings = read_csv_provenance(files[0]).get("ct_settings", {})
        panels[f"{name}: {settings.get('cells')} cells, PCA {settings.get('pca_dim')}, {settings.get('distance')}"] = curves
    plot_ct_panels(panels, png, pdf, f"C_T-layer curves under each C_T setting, encoder {encoder}", footnote)


def figure_sample_grid(imagesets: dict[str, str], png: str, pdf: str, shown: int = 8) -> None:
    """Paper figure 4 analog: the first ``shown`` images of every generator, one row each."""
    from memprint.plots import plot_image_rows

    rows = {name: [(image, "") for image in read_imageset(path).images[:shown]] for name, path in imagesets.items()}
    plot_image_rows(rows, png, pdf, "samples of every generator", f"image sets: {', '.join(imagesets.values())}")
