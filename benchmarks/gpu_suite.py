"""Everything GPU-bound in one suite: embedding, C_T, the Table-1 C_T path through Snakemake, generators, InvMM.

On one GPU, in ONE command of at most ``--budget-s`` seconds (480 by default: GPU time comes in short windows).
Each part runs in its own process, in the order given, with what is left of the budget as its time limit; a part
that runs out is recorded as not finished (with its sizes), one that cannot start is recorded as skipped, and the
figures of the parts that finished are kept:

    python benchmarks/gpu_suite.py --dinov2 ../shared/assets/dinov2_vits14 --out $OUT/gpu_suite.json
    python benchmarks/gpu_suite.py --readme README.md --out benchmarks/results/gpu_suite.json    # the Speed table

``--tiny`` runs every part at toy sizes on the CPU (a test does; its figures mean nothing). Random weights
(speed does not depend on them) except the DINOv2 asset, which is loaded when ``--dinov2`` points at it; CIFAR-
sized random images. Targets (from the GPU issue) are checked and written beside the figures: a miss is
reported, not hidden.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.embed_throughput import bare_forward, synchronize  # noqa: E402
from memprint.docs import fill_block  # noqa: E402
from memprint.io import ImageSet, write_imageset  # noqa: E402
from memprint.runtime import resolve_device  # noqa: E402
from memprint.stages.encoders import embed  # noqa: E402

FULL = {
    "embed_images": 50000,
    "embed_images_large": 10000,
    "batch": 512,
    "train": 50000,
    "test": 10000,
    "generators": 18,
    "samples": 1500,
    "width": 768,
    "layers": 13,
    "cells": 5,
    "vit": "vit_base_patch16_224",
    "vit_large": "vit_large_patch16_224",
    "zoo_width": 64,
    "zoo_steps": 50,
    "sample_images": 256,
    "invmm_images": 64,
    "invmm_steps": 100,
    "fingerprint": {"target_size": 500, "reference_sizes": [500, 1000]},
    "search_train": 1_000_000,
    "search_queries": 10_000,
}
TINY = {
    "embed_images": 48,
    "embed_images_large": 16,
    "batch": 16,
    "train": 400,
    "test": 100,
    "generators": 2,
    "samples": 60,
    "width": 32,
    "layers": 3,
    "cells": 1,  # random images through a random ViT: more cells can hold Q but no P
    "vit": "vit_tiny_patch16_224",
    "vit_large": "vit_small_patch16_224",
    "zoo_width": 8,
    "zoo_steps": 2,
    "sample_images": 4,
    "invmm_images": 2,
    "invmm_steps": 2,
    "fingerprint": {"target_size": 20, "reference_sizes": [20]},
    "search_train": 2000,
    "search_queries": 100,
}
PARTS = ["embedding", "ct", "search", "pipeline", "generators", "invmm"]
TARGETS = [
    ("embedding.vit_base.end_to_end_images_per_s", ">=", 7500),
    ("embedding.vit_base.end_to_end_over_bare", ">=", 0.85),
    ("ct.all_layers_seconds", "<", 2.0),
    ("pipeline.wall_seconds", "<", 60.0),
]


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def _imageset(n: int, seed: int = 0) -> ImageSet:
    return ImageSet(_images(n, seed), np.arange(n) % 10, np.array([str(i) for i in range(n)], object), {})


def _timed_embed(spec: dict, weights, source: Path, out: Path, size: dict, device, compile_blocks=False) -> float:
    started = time.perf_counter()
    embed(
        spec,
        weights,
        str(source),
        str(out),
        batch_size=size["batch"],
        device=str(device),
        progress=False,
        compile_blocks=compile_blocks,
    )
    return time.perf_counter() - started


def part_embedding(size: dict, device, tmp: Path, dinov2: str | None) -> dict:
    """End-to-end (image file in, finished HDF5 of every block out) and bare forward images/s."""
    models = {
        "vit_base": ({"kind": "timm", "name": size["vit"], "weights": "random"}, None, size["embed_images"]),
        "vit_large": (
            {"kind": "timm", "name": size["vit_large"], "weights": "random"},
            None,
            size["embed_images_large"],
        ),
    }
    if dinov2:
        models["dinov2_vits14"] = (
            {"kind": "hf", "name": dinov2, "weights": dinov2, "input_size": 224},
            dinov2,
            size["embed_images_large"],
        )
    results = {}
    for name, (spec, weights, n) in models.items():
        source = tmp / f"{name}_images.h5"
        write_imageset(source, _imageset(n))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eager = _timed_embed(spec, weights, source, tmp / f"{name}_eager.h5", size, device)
            row = {"model": spec["name"], "images": n, "end_to_end_images_per_s": n / eager}
            if name == "vit_base" and size is FULL:  # compiling takes minutes on a CPU: not in the toy check
                compiled = _timed_embed(spec, weights, source, tmp / f"{name}_compiled.h5", size, device, True)
                row["compiled_end_to_end_images_per_s_compile_included"] = n / compiled
            row["bare_images_per_s"] = bare_forward(
                spec, _images(min(n, 20 * size["batch"])), size["batch"], device, weights
            )
        row["end_to_end_over_bare"] = row["end_to_end_images_per_s"] / row["bare_images_per_s"]
        results[name] = row
    return results


def part_ct(size: dict, device) -> dict:
    """Reference fit (KMeans + P's distances) and scoring of every Q set, every layer, Table-1 sizes."""
    from memprint.ct import CTSettings, LayerReference

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (10, size["width"])).astype(np.float32)

    def draw(n):
        return centres[rng.integers(0, 10, n)] + rng.normal(0, 1, (n, size["width"])).astype(np.float32)

    fit = score = 0.0
    for _ in range(size["layers"]):
        train, test = draw(size["train"]), draw(size["test"])
        generated = [draw(size["samples"]) for _ in range(size["generators"])]
        synchronize(device)
        started = time.perf_counter()
        ref = LayerReference.fit(train, test, CTSettings(cells=size["cells"]), device)
        synchronize(device)
        fit += time.perf_counter() - started
        started = time.perf_counter()
        for q in generated:
            ref.score(q, device)
        synchronize(device)
        score += time.perf_counter() - started
    return {
        "train": size["train"],
        "test": size["test"],
        "generated_sets": size["generators"],
        "samples_per_set": size["samples"],
        "width": size["width"],
        "layers": size["layers"],
        "reference_fit_seconds": fit,
        "scoring_seconds": score,
        "all_layers_seconds": fit + score,
    }


def part_pipeline(size: dict, tmp: Path, cores: int) -> dict:
    """The Table-1 C_T path through Snakemake: sample files given, embeddings, C_T, curves, matching."""
    work = tmp / "pipeline"
    (work / "data").mkdir(parents=True)
    for split, n in (("train", size["train"]), ("test", size["test"])):
        np.savez(work / "data" / f"{split}.npz", x=_images(n, seed=len(split)), y=np.arange(n) % 10)
    generators = {}
    for k in range(size["generators"]):
        np.savez(work / "data" / f"gen{k}.npz", x=_images(size["samples"], seed=100 + k))
        generators[f"gen{k}"] = {
            "kind": "samples",
            "path": str(work / "data" / f"gen{k}.npz"),
            "architecture": f"arch{k % 6}",
        }
    config = {
        "data": {
            "source": "cifar10",
            "cifar10": {"train_npz": str(work / "data" / "train.npz"), "test_npz": str(work / "data" / "test.npz")},
        },
        "generators": generators,
        "encoders": {"vit": {"kind": "timm", "name": size["vit"], "weights": "random"}},
        "ct": {"cells": size["cells"], "min_generated_per_cell": 5 if size is TINY else 20},
        "fingerprint": {**size["fingerprint"], "splits": 1, "statistics_features": "vit"},
        "runtime": {"batch_size": size["batch"]},
    }
    (work / "config.yaml").write_text(json.dumps(config))
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "results/fingerprint/table1.md",  # first: --quiet and --configfile take every word after them
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        "--configfile",
        str(work / "config.yaml"),
        "--cores",
        str(cores),
        "--quiet",
        "rules",
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"pipeline part failed:\n{result.stderr[-3000:]}")
    return {
        "generators": size["generators"],
        "train": size["train"],
        "test": size["test"],
        "samples": size["samples"],
        "encoder": size["vit"],
        "wall_seconds": wall,
        "paper_seconds_gtx1080ti": 2835,
    }


def part_generators(size: dict, device) -> dict:
    """Zoo training throughput (DCGAN, DDPM UNet) and diffusion sampling images/s per sampler."""
    from memprint.generators.diffusion import make_scheduler, sample_diffusion
    from memprint.generators.shards import image_generators
    from memprint.zoo import build_unet, train_zoo_model

    results = {}
    batch = 128 if size is FULL else 4
    images = _images(batch * size["zoo_steps"])
    for arch in ("dcgan", "ddpm"):
        spec = {"arch": arch, "width": size["zoo_width"], "latent_dim": 128, "batch_size": batch}
        stats = train_zoo_model(spec, images, 0, [1], device, lambda epoch, payload: None)
        results[f"train_{arch}_images_per_s"] = len(images) / stats["train_seconds"]
    unet = build_unet(3, 32, size["zoo_width"])
    for name, steps in (("ddpm", 1000), ("ddim", 250), ("ddim", 50), ("pndm", 50)):
        steps = steps if size is FULL else 5  # PNDM needs a few warm-up steps
        generators = image_generators(0, 0, size["sample_images"])
        synchronize(device)
        started = time.perf_counter()
        sample_diffusion(unet, make_scheduler(name, steps, None), generators, device, size["sample_images"])
        synchronize(device)
        results[f"sample_{name}_{steps}_images_per_s"] = size["sample_images"] / (time.perf_counter() - started)
    results["zoo_width"] = size["zoo_width"]
    return results


def part_invmm(size: dict, device) -> dict:
    """Seconds per image of InvMM (batched) on a zoo-sized DDPM UNet, for a fixed number of steps."""
    from diffusers import DDPMScheduler

    from memprint.invmm import InvMMSettings, PixelCorrelation, invert
    from memprint.zoo import build_unet

    unet = build_unet(3, 32, size["zoo_width"])
    targets = torch.rand(size["invmm_images"], 3, 32, 32) * 2 - 1
    settings = InvMMSettings(
        max_steps=size["invmm_steps"],
        check_every=max(1, size["invmm_steps"] // 2),
        ddim_steps=20 if size is FULL else 2,
        check_images=8 if size is FULL else 2,
    )
    synchronize(device)
    started = time.perf_counter()
    invert(unet, dict(DDPMScheduler().config), targets.to(device), PixelCorrelation(), settings, device, progress=False)
    synchronize(device)
    seconds = time.perf_counter() - started
    return {
        "images": size["invmm_images"],
        "steps": size["invmm_steps"],
        "seconds_per_image": seconds / len(targets),
        "seconds_per_image_per_100_steps": seconds / len(targets) * 100 / size["invmm_steps"],
    }


def part_search(size: dict, device) -> dict:
    """Exact nearest-neighbour search of |Q| queries in |T| 384-d rows: memprint's torch search on the device,
    FAISS on the CPU, and FAISS on the GPU when faiss-gpu is installed (the same neighbours, checked)."""
    from memprint import runtime, search

    rng = np.random.default_rng(0)
    train = rng.normal(size=(size["search_train"], 384)).astype(np.float32)
    queries = rng.normal(size=(size["search_queries"], 384)).astype(np.float32)
    out, rows = {"train": size["search_train"], "queries": size["search_queries"]}, {}
    for name, backend, dev in (("torch_device", "torch", device), ("faiss_cpu", "faiss", torch.device("cpu"))):
        runtime.set_search(backend)
        synchronize(dev)
        started = time.perf_counter()
        _, rows[name] = search.nearest_distances(queries, train, device=dev, return_index=True)
        synchronize(dev)
        out[f"{name}_seconds"] = time.perf_counter() - started
    runtime.set_search("auto")
    try:
        import faiss

        if device.type == "cuda" and faiss.get_num_gpus() > 0:
            started = time.perf_counter()
            index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, faiss.IndexFlatL2(384))
            index.add(train)
            rows["faiss_gpu"] = index.search(queries, 1)[1][:, 0]
            out["faiss_gpu_seconds"] = time.perf_counter() - started
    except ImportError:
        pass
    out["same_neighbours"] = float(all(np.array_equal(rows["faiss_cpu"], r) for r in rows.values()))
    return out


def _lookup(results: dict, dotted: str):
    value = results
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def check_targets(results: dict) -> list[dict]:
    rows = []
    for name, relation, target in TARGETS:
        measured = _lookup(results["parts"], name)
        met = None if measured is None else (measured >= target if relation == ">=" else measured < target)
        rows.append({"figure": name, "target": f"{relation} {target}", "measured": measured, "met": met})
    return rows


def speed_table(results: dict) -> str:
    """The README's Speed table, from the suite's JSON."""
    lines = [
        f"Measured by `benchmarks/gpu_suite.py` on {results['device']} (torch {results['torch']}, "
        f"{results['date']}, {'toy sizes' if results['tiny'] else 'full sizes'}).",
        "",
        "| figure | measured | target | met |",
        "| --- | --- | --- | --- |",
    ]
    targets = {row["figure"]: row for row in results["targets"]}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                yield from walk(f"{prefix}.{key}" if prefix else key, inner)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield prefix, value

    for figure, value in walk("", results["parts"]):
        row = targets.get(figure, {})
        met = {True: "yes", False: "**no**", None: ""}[row.get("met")]
        lines.append(f"| {figure} | {value:,.3g} | {row.get('target', '')} | {met} |")
    return "\n".join(lines) + "\n"


def run_part(part: str, size: dict, device, tmp: Path, args) -> dict:
    runners = {
        "embedding": lambda: part_embedding(size, device, tmp, args.dinov2),
        "ct": lambda: part_ct(size, device),
        "search": lambda: part_search(size, device),
        "pipeline": lambda: part_pipeline(size, tmp, args.cores),
        "generators": lambda: part_generators(size, device),
        "invmm": lambda: part_invmm(size, device),
    }
    return runners[part]()


def run_within_budget(parts: list[str], argv: list[str], budget_s: float, tmp: Path) -> dict:
    """Each part in a child process limited to what is left of the budget; what did not finish is said so."""
    started, results = time.perf_counter(), {}
    for part in parts:
        left = budget_s - (time.perf_counter() - started)
        if left < 15:
            results[part] = {"status": f"skipped: {budget_s:.0f} s budget spent"}
            continue
        part_out = tmp / f"{part}.json"
        command = [sys.executable, __file__, *argv, "--child", part, "--child-out", str(part_out)]
        part_started = time.perf_counter()
        child = subprocess.Popen(command, start_new_session=True)  # its own group: a timeout stops its jobs too
        try:
            code = child.wait(timeout=left)
            results[part] = (
                json.loads(part_out.read_text()) if code == 0 else {"status": f"failed (exit {code}); see above"}
            )
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            results[part] = {"status": f"not finished within the {left:.0f} s left of the budget"}
        print(f"{part}: {time.perf_counter() - part_started:.1f} s", flush=True)
    return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=PARTS, choices=PARTS)
    parser.add_argument("--tiny", action="store_true", help="toy sizes, for a CPU check")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dinov2", default=None, help="the DINOv2 asset folder (e.g. ../shared/assets/dinov2_vits14)")
    parser.add_argument("--cores", type=int, default=16, help="Snakemake cores for the pipeline part")
    parser.add_argument("--budget-s", type=float, default=480, help="the whole command's time limit in seconds")
    parser.add_argument("--out", default="benchmarks/results/gpu_suite.json", help="JSON file (parts merge into it)")
    parser.add_argument("--readme", default=None, help="only regenerate this README's Speed table from --out")
    parser.add_argument("--child", choices=PARTS, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.readme:
        fill_block(args.readme, "gpu-suite", speed_table(json.loads(out.read_text())))
        return json.loads(out.read_text())
    size, device = (TINY if args.tiny else FULL), resolve_device(args.device)
    if args.child:  # one part, in its own process
        with tempfile.TemporaryDirectory() as tmp:
            figures = run_part(args.child, size, device, Path(tmp), args)
        Path(args.child_out).write_text(json.dumps(figures, default=float))
        return {}
    results = json.loads(out.read_text()) if out.exists() else {"parts": {}}
    results.update(
        device=torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)",
        torch=torch.__version__,
        date=dt.date.today().isoformat(),
        tiny=args.tiny,
        budget_s=args.budget_s,
    )
    with tempfile.TemporaryDirectory() as tmp:
        results["parts"].update(run_within_budget(args.parts, argv, args.budget_s, Path(tmp)))
    results["targets"] = check_targets(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=float))
    return results


if __name__ == "__main__":
    main()
