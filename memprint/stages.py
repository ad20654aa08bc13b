"""One function per pipeline stage: files in, files out. Snakemake's scripts and the CLI both call these.

Every output is written atomically and records what made it (data hashes, weights source and hash, seeds).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from memprint import MemprintError, datasets
from memprint.ct import CTSettings, LayerReference
from memprint.encoders import Encoder, embed_images, load_encoder, save_weights
from memprint.fingerprint import accuracy_table, match_targets, split_halves
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

def make_data(data: dict, train_out: str, test_out: str) -> None:
    """The training set T and test set P from the configured source."""
    source = data["source"]
    if source == "digits":
        train, test = datasets.digits_split(data["test_fraction"], data["seed"])
    elif source == "cifar10":
        cfg = data["cifar10"]
        train = datasets.cifar10("train", cfg.get("train_npz"), cfg.get("root", "results/downloads"), cfg.get("train_limit"))
        test = datasets.cifar10("test", cfg.get("test_npz"), cfg.get("root", "results/downloads"), cfg.get("test_limit"))
    elif source == "folder":
        train, test = datasets.load_folder(data["folder"]["train"]), datasets.load_folder(data["folder"]["test"])
    else:
        raise MemprintError(f"data.source {source!r} is unknown; use digits, cifar10 or folder")
    write_imageset(train_out, train)
    write_imageset(test_out, test)
    log.info("train: %d images %s, test: %d images", len(train), train.images.shape[1:], len(test))


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
    import time

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
          device: str = "auto", progress: bool = True) -> None:
    """Every layer's embedding of one image set, written resumably to ``out`` (float16, one pass per batch)."""
    dev = resolve_device(device)
    encoder = load_encoder(spec, weights, dev)
    imageset = read_imageset(imageset_path)
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


def score_layers(refs: list[LayerReference], names: list[str], generated: list[np.ndarray], dev) -> pd.DataFrame:
    rows = []
    for index, (name, ref, q) in enumerate(zip(names, refs, generated)):
        result = ref.score(q, dev, layer=name)
        rows.append({"layer": index, "layer_name": name, "ct": result.ct, "tau": result.tau,
                     "cells_used": result.cells_used, "cells": len(result.z_per_cell),
                     "n_test": len(ref.test_cells), "n_generated": len(q),
                     "min_generated_in_used_cell": min((g for g, z in zip(result.generated_per_cell, result.z_per_cell)
                                                        if z is not None), default=0),
                     "generated_per_cell": json.dumps(result.generated_per_cell),
                     "test_per_cell": json.dumps(result.test_per_cell),
                     "z_per_cell": json.dumps(result.z_per_cell), "warning": result.warning})
    return pd.DataFrame(rows)


def ct_curve(reference: str, train_emb: str, generated_emb: str, out: str, device: str = "auto") -> None:
    """The C_T-layer curve of one generated set: one CSV row per layer."""
    train, generated = read_embeddings(train_emb), read_embeddings(generated_emb)
    refs, settings = load_ct_reference(reference, train)
    df = score_layers(refs, train.layer_names, generated.layers, resolve_device(device))
    write_csv(df, out, {"generated_embeddings": generated_emb, "ct_settings": settings.__dict__,
                        **{k: generated.attrs.get(k) for k in ("weights_source", "weights_sha256", "imageset_sha256")}})


def fingerprint_curves(reference: str, train_emb: str, generated_emb: str, encoder: str, generator: str,
                       family: str, n_splits: int, seed: int, out: str, device: str = "auto") -> None:
    """C_T-layer curves of seeded (reference, target) halves of one generator's samples."""
    train, generated = read_embeddings(train_emb), read_embeddings(generated_emb)
    refs, settings = load_ct_reference(reference, train)
    dev = resolve_device(device)
    frames = []
    for split, halves in enumerate(split_halves(len(generated.image_ids), n_splits, seed)):
        for role, idx in zip(("reference", "target"), halves):
            df = score_layers(refs, train.layer_names, [layer[idx] for layer in generated.layers], dev)
            frames.append(df[["layer", "layer_name", "ct"]].assign(encoder=encoder, generator=generator, family=family,
                                                                split=split, role=role))
    write_csv(pd.concat(frames, ignore_index=True), out,
              {"generated_embeddings": generated_emb, "ct_settings": settings.__dict__, "splits": n_splits, "seed": seed,
               **{k: generated.attrs.get(k) for k in ("weights_source", "weights_sha256")}})


def fingerprint_summary(curve_files: list[str], matches_out: str, summary_out: str) -> pd.DataFrame:
    """Per encoder: match target curves to reference curves; accuracy per matching method."""
    curves = pd.concat([read_csv(path) for path in curve_files], ignore_index=True)
    matches = pd.concat([match_targets(block).assign(encoder=encoder) for encoder, block in curves.groupby("encoder")],
                        ignore_index=True)
    table = pd.concat([accuracy_table(block).assign(encoder=encoder) for encoder, block in matches.groupby("encoder")],
                      ignore_index=True)
    meta = {"curve_files": list(curve_files), "layers": "1..L (layer 0 left out)",
            "weights": {f: read_csv_provenance(f).get("weights_source") for f in curve_files[:1]}}
    write_csv(matches, matches_out, meta)
    write_csv(table, summary_out, meta)
    return table


# ------------------------------------------------------------------------------------------------- figures

def _curves_with_provenance(curve_files: list[str]) -> tuple[pd.DataFrame, str]:
    frames = [read_csv(path).assign(generator=Path(path).stem) for path in curve_files]
    meta = read_csv_provenance(curve_files[0])
    settings = meta.get("ct_settings", {})
    footnote = (f"weights: {meta.get('weights_source')} (sha256 {str(meta.get('weights_sha256'))[:12]}); "
                f"C_T cells={settings.get('cells')}, distance={settings.get('distance')}, pca={settings.get('pca_dim')}")
    return pd.concat(frames, ignore_index=True), footnote


def figure_ct_curves(curve_files: list[str], encoder: str, png: str, pdf: str) -> None:
    from memprint.plots import plot_ct_curves

    curves, footnote = _curves_with_provenance(curve_files)
    plot_ct_curves(curves, png, pdf, f"C_T-layer curves, encoder {encoder}", footnote)


def figure_curve_similarity(curve_files: list[str], encoder: str, png: str, pdf: str) -> None:
    from memprint.fingerprint import similarity_matrix
    from memprint.plots import plot_similarity_heatmap

    curves, footnote = _curves_with_provenance(curve_files)
    plot_similarity_heatmap(similarity_matrix(curves), png, pdf,
                            f"cosine similarity of C_T-layer curves (layers 1..L), encoder {encoder}", footnote)
