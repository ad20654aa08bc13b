"""Throughput of the embedding stage, end to end (image-set file in, finished HDF5 of every block out), and of
a bare forward pass with all-block capture for comparison. Writes a JSON file.

    python benchmarks/embed_throughput.py --model vit_base_patch16_224 --images 50000 --batch-size 512
    python benchmarks/embed_throughput.py --model vit_tiny_patch16_224 --images 512 --batch-size 64   # CPU check

Random weights (the speed does not depend on them) and random CIFAR-sized 32x32 images.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from memprint.embedding_files import read_embeddings
from memprint.encoders import load_encoder
from memprint.io import ImageSet, write_imageset
from memprint.runtime import autocast, precision_used, resolve_device
from memprint.stages.encoders import embed


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_forward(spec: dict, images: np.ndarray, batch_size: int, device: torch.device, weights=None) -> float:
    """Images per second of the hooked forward pass alone (no file, no host copies of the outputs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder = load_encoder(spec, weights, device)
    batches = [torch.from_numpy(images[i : i + batch_size]).to(device) for i in range(0, len(images), batch_size)]
    with autocast(device):
        encoder.layer_embeddings(batches[0])  # warm-up
        synchronize(device)
        start = time.perf_counter()
        for batch in batches:
            encoder.layer_embeddings(batch)
        synchronize(device)
    return len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="vit_base_patch16_224", help="timm ViT name")
    parser.add_argument("--images", type=int, default=50000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--compile", action="store_true", help="torch.compile the blocks (runtime.compile)")
    parser.add_argument("--out", default="benchmarks/results/embed_throughput.json")
    args = parser.parse_args()

    device = resolve_device(args.device)
    spec = {"kind": "timm", "name": args.model, "weights": "random"}
    images = np.random.default_rng(0).integers(0, 256, (args.images, 32, 32, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "images.h5", Path(tmp) / "embeddings.h5"
        write_imageset(
            source, ImageSet(images, np.full(len(images), -1), np.arange(len(images)).astype(str).astype(object), {})
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            embed(
                spec,
                None,
                str(source),
                str(target),
                batch_size=args.batch_size,
                device=str(device),
                progress=False,
                compile_blocks=args.compile,
            )
            end_to_end = args.images / (time.perf_counter() - start)
        layers = len(read_embeddings(target).layer_names)
    result = {
        "model": args.model,
        "weights": "random init",
        "images": args.images,
        "image_size": "32x32 (resized by the model's preprocessing)",
        "batch_size": args.batch_size,
        "compiled_blocks": args.compile,
        "layers_written": layers,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "precision": precision_used(device),
        "end_to_end_images_per_s": round(end_to_end, 1),
        "bare_forward_images_per_s": round(
            bare_forward(spec, images[: min(len(images), 20 * args.batch_size)], args.batch_size, device), 1
        ),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
