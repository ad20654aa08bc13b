"""float32 against bf16 autocast on this machine, in one run: the embedding forward pass (every layer captured)
and one epoch of zoo GAN training, with the ratio and how far bf16's embeddings move (cosine to float32 per
layer). Tells whether ``runtime.precision: auto`` should pick bf16 here (it does where the CPU has AMX or
AVX-512 BF16, or on CUDA) and what it saves. Writes a JSON file and a Markdown table.

    python benchmarks/precision.py --dinov2 ../shared/assets/dinov2_vits14 --out benchmarks/results/precision.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from memprint import runtime
from memprint.encoders import load_encoder
from memprint.zoo import train_zoo_model


def embedding_rate(encoder, images: np.ndarray, batch_size: int, device) -> tuple[float, list[np.ndarray]]:
    """Images per second of the hooked forward pass (after one warm-up batch) and its per-layer outputs."""
    batches = [torch.from_numpy(images[i : i + batch_size]).to(device) for i in range(0, len(images), batch_size)]
    with runtime.autocast(device):
        encoder.layer_embeddings(batches[0][:2])
        start = time.perf_counter()
        outputs = [encoder.layer_embeddings(b) for b in batches]
    seconds = time.perf_counter() - start
    return len(images) / seconds, [torch.cat([o[i] for o in outputs]).float().numpy() for i in range(len(outputs[0]))]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dinov2", default=None, help="a DINOv2 folder (Hugging Face layout); else a small ViT")
    parser.add_argument("--input-size", type=int, default=112, help="encoder input size in pixels")
    parser.add_argument("--images", type=int, default=128, help="images embedded per precision")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--zoo-images", type=int, default=640, help="images in the zoo training epoch")
    parser.add_argument("--widths", type=int, nargs="+", default=[32, 64], help="zoo DCGAN widths")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--out", default="benchmarks/results/precision.json")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    images = np.random.default_rng(0).integers(0, 256, (args.images, 32, 32, 3), dtype=np.uint8)
    if args.dinov2:
        spec = {"kind": "hf", "name": args.dinov2, "input_size": args.input_size, "pooling": "cls"}
        weights, label = args.dinov2, f"DINOv2 {args.dinov2} at {args.input_size} px"
    else:
        spec = {"kind": "trained_vit", "image_size": 32, "patch": 4, "width": 192, "depth": 12, "heads": 3}
        weights, label = None, "random ViT (width 192, 12 blocks) at 32 px"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder = load_encoder(spec, weights, device)
    rows, layers = [], {}
    for precision in ("float32", "bf16"):
        runtime.set_precision(precision)
        rate, layers[precision] = embedding_rate(encoder, images, args.batch_size, device)
        rows.append({"task": f"embedding: {label}", "precision": precision, "images_per_second": rate})
        print(rows[-1], flush=True)
    agreement = [cosine(a, b) for a, b in zip(layers["float32"], layers["bf16"])]
    zoo_images = np.random.default_rng(1).integers(0, 256, (args.zoo_images, 32, 32, 3), dtype=np.uint8)
    for width in args.widths:
        for precision in ("float32", "bf16"):
            runtime.set_precision(precision)
            spec_zoo = {"arch": "dcgan", "width": width, "latent_dim": 64, "batch_size": 64}
            seconds = train_zoo_model(spec_zoo, zoo_images, 0, [1], device, lambda epoch, payload: None)[
                "train_seconds"
            ]
            rows.append(
                {
                    "task": f"zoo DCGAN epoch, width {width}",
                    "precision": precision,
                    "images_per_second": args.zoo_images / seconds,
                }
            )
            print(rows[-1], flush=True)
    runtime.set_precision("auto")
    capabilities = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else {}
    result = {
        "machine": platform.processor() or platform.machine(),
        "cpu": capabilities.get("cpu_name", ""),
        "bf16_units": runtime.has_bf16_units(device),
        "auto_picks": runtime.resolve_precision("auto", device),
        "threads": args.threads,
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
        "rows": rows,
        "bf16_over_float32": {
            task: next(r["images_per_second"] for r in rows if r["task"] == task and r["precision"] == "bf16")
            / next(r["images_per_second"] for r in rows if r["task"] == task and r["precision"] == "float32")
            for task in dict.fromkeys(r["task"] for r in rows)
        },
        "embedding_cosine_bf16_vs_float32_per_layer": agreement,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    lines = ["| task | float32 images/s | bf16 images/s | bf16 / float32 |", "|---|---|---|---|"]
    for task, ratio in result["bf16_over_float32"].items():
        rate = {r["precision"]: r["images_per_second"] for r in rows if r["task"] == task}
        lines.append(f"| {task} | {rate['float32']:.1f} | {rate['bf16']:.1f} | {ratio:.2f} |")
    out.with_suffix(".md").write_text(
        "\n".join(lines)
        + f"\n\n{result['cpu']} ({args.threads} threads, torch {torch.__version__}, {result['date']}): bf16 units "
        + f"{'present' if result['bf16_units'] else 'absent'}, so runtime.precision: auto picks "
        + f"{result['auto_picks']}. "
        + f"Embedding cosine bf16 vs float32 per layer: {min(agreement):.5f} (lowest) .. {max(agreement):.5f}.\n"
    )
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
