"""C_T and the copy finder from disk to result as T grows: wall time and peak memory per |T|, FAISS exact search
against memprint's torch search, on clustered synthetic embeddings.

Each size writes T (|T| rows), P and Q (``--queries`` rows each) as memprint embedding files (float16, 13 layers
of 384 dimensions by default) drawn from a Gaussian mixture in a low-dimensional subspace plus isotropic noise,
so the data are clustered as real features are (a sample keeps its mixture component at every layer, as an image
keeps its class). 1% of Q are near-copies of training rows, so the copy finder has something to find. Then, in a
fresh process per (size, backend), the pipeline's own stages run on those files: ``fit_references`` (the C_T
cells and P's distances, T read one layer at a time), ``score_curve`` (C_T with its bootstrap interval) and
``find_copies`` (per-image p-values, one flag per image at 1%). The process reports its wall time per stage and
its peak resident memory (``ru_maxrss``); where both backends ran on one size, their C_T curves and flags must
agree exactly. Time grows as |T|^a: ``a`` is fitted on the log-log points.

    python benchmarks/scaling.py --sizes 10000 30000 100000 300000 1000000 --torch-up-to 100000 \\
        --data /tmp/memprint_scaling --out benchmarks/results/scaling.json

``--merge`` reruns some sizes and keeps the file's other runs; each run records the commit that measured it.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memprint.embedding_files import EmbeddingWriter  # noqa: E402

COMPONENTS, LATENT, NOISE, COPY_NOISE = 100, 32, 0.3, 0.02
BATCH = 50_000


def mixture(layers: int, dim: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer: the mixture's centres in the latent space and the orthonormal map into the embedding space."""
    rng = np.random.default_rng([seed, 1])
    out = []
    for _ in range(layers):
        centres = rng.normal(0.0, 3.0, (COMPONENTS, LATENT)).astype(np.float32)
        basis = np.linalg.qr(rng.normal(size=(dim, LATENT)))[0].T.astype(np.float32)
        out.append((centres, basis))
    return out


def draw(model, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``n`` samples at every layer, each sample in one mixture component throughout."""
    component = rng.integers(0, COMPONENTS, n)
    layers = []
    for centres, basis in model:
        latent = centres[component] + rng.normal(size=(n, LATENT)).astype(np.float32)
        layers.append(latent @ basis + NOISE * rng.normal(size=(n, basis.shape[1])).astype(np.float32))
    return layers


def write_set(path: Path, model, n: int, seed: int, planted: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """An embedding file of ``n`` draws (``planted``: rows that replace the first ones); returns the first
    batch, whose rows Q's near-copies copy."""
    names = [f"blocks.{i:02d}" for i in range(len(model))]
    dim = model[0][1].shape[1]
    writer = EmbeddingWriter(
        path, names, [dim] * len(model), n, [f"{path.stem}/{i}" for i in range(n)], f"{path}-{seed}", {"synthetic": 1}
    )
    rng, first = np.random.default_rng([seed, 2]), None
    for start in range(0, n, BATCH):
        layers = draw(model, min(BATCH, n - start), rng)
        if start == 0 and planted is not None:
            for layer, rows in zip(layers, planted):
                layer[: len(rows)] = rows
        first = layers if first is None else first
        writer.write(start, layers)
    writer.finish(seconds=0.0)
    writer.close()
    return first


def make_data(folder: Path, size: int, queries: int, layers: int, dim: int) -> dict[str, Path]:
    """T of ``size`` rows and P, Q of ``queries`` rows (Q: 1% near-copies of T's first rows), cached by name."""
    folder.mkdir(parents=True, exist_ok=True)
    tag = f"{size}_{queries}_{layers}x{dim}"  # Q's near-copies are rows of this T: one set of files per size
    files = {s: folder / f"{s}_{tag}.h5" for s in ("train", "test", "q")}
    if all(p.exists() for p in files.values()):
        return files
    model = mixture(layers, dim, seed=0)
    first = write_set(files["train"], model, size, seed=1)
    copies = max(1, queries // 100)
    rng = np.random.default_rng(3)
    planted = [t[:copies] + COPY_NOISE * rng.normal(size=t[:copies].shape).astype(np.float32) for t in first]
    write_set(files["test"], model, queries, seed=2)
    write_set(files["q"], model, queries, seed=4, planted=planted)
    return files


def measure(train: str, test: str, generated: str, backend: str, threads: int, work: Path) -> dict:
    """One process: the three stages on these files with this search backend; seconds per stage and peak RSS."""
    import pandas as pd
    import torch

    from memprint.io import read_csv
    from memprint.runtime import set_search
    from memprint.stages.copies import find_copies
    from memprint.stages.scores import fit_references, score_curve

    torch.set_num_threads(threads)
    set_search(backend)
    work.mkdir(parents=True, exist_ok=True)
    scores, ref = {"ct": {"kind": "ct"}}, str(work / "ct.h5")
    seconds = {}
    start = time.perf_counter()
    fit_references(train=train, test=test, scores=scores, references={"ct": ref}, device="cpu")
    seconds["fit (cells, P)"] = time.perf_counter() - start
    start = time.perf_counter()
    curve = work / "curve.csv"
    score_curve(
        references={"ct": ref},
        train=train,
        test=test,
        generated=generated,
        curves={"ct": str(curve)},
        replicates={"ct": str(work / "replicates.h5")},
        generator="q",
        scores=scores,
        intervals={"replicates": 1000, "seed": 0},
        device="cpu",
    )
    seconds["C_T curve"] = time.perf_counter() - start
    start = time.perf_counter()
    images = find_copies(
        reference=ref,
        train=train,
        test=test,
        generated=generated,
        transformed={"identity": {"generated": generated}},
        level=0.01,
        statistic={"kind": "smallest"},  # embeddings only, no images: the per-view statistic
        layers_out=str(work / "copies.csv"),
        images_out=str(work / "images.csv"),
        device="cpu",
    )
    seconds["copy finder"] = time.perf_counter() - start
    ct = read_csv(curve)
    copies = max(1, len(images) // 100)
    planted = images["sample_id"].str.split("/").str[1].astype(int) < copies
    return {
        "seconds": seconds,
        "total_seconds": sum(seconds.values()),
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "ct": ct["value"].round(6).tolist(),
        "ct_low": ct["low"].round(6).tolist(),
        "ct_high": ct["high"].round(6).tolist(),
        "flagged": pd.Series(images["copy"]).astype(bool).tolist(),
        "planted_found": float(images.loc[planted, "copy"].astype(bool).mean()),
        "others_flagged": float(images.loc[~planted, "copy"].astype(bool).mean()),
    }


def commit() -> str:
    """The code that measured a run: the checkout's commit, marked when it had uncommitted changes."""
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True)
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "") if head.returncode == 0 else "unknown"


def fit_growth(sizes: list[int], seconds: list[float]) -> float:
    """The exponent ``a`` of time ~ |T|^a by least squares on the log-log points."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0]) if len(sizes) > 1 else float("nan")


def plot(runs: list[dict], png: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for backend, colour in (("faiss", "C0"), ("torch", "C1")):
        mine = sorted((r for r in runs if r["backend"] == backend), key=lambda r: r["size"])
        if not mine:
            continue
        sizes = [r["size"] for r in mine]
        a = fit_growth(sizes, [r["total_seconds"] for r in mine])
        label = f"{backend} exact (time ~ |T|^{a:.2f})"
        axes[0].plot(sizes, [r["total_seconds"] / 60 for r in mine], "o-", color=colour, label=label)
        axes[1].plot(sizes, [r["peak_rss_gib"] for r in mine], "o-", color=colour, label=f"{backend} exact")
    axes[0].axhline(30, color="0.4", ls="--", lw=0.8, label="target: 30 min at 10^6")
    axes[1].axhline(8, color="0.4", ls="--", lw=0.8, label="target: 8 GiB")
    axes[0].set(xscale="log", yscale="log", xlabel="|T| (training embeddings)", ylabel="minutes, all layers")
    axes[1].set(xscale="log", xlabel="|T| (training embeddings)", ylabel="peak resident memory (GiB)")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle(textwrap.fill(title, 110), fontsize=9)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=150)
    fig.savefig(png.with_suffix(".pdf"))
    plt.close(fig)


def table(runs: list[dict]) -> str:
    lines = [  # the commit column: the code that measured each run
        "| |T| | search | fit (cells, P) s | C_T curve s | copy finder s | total min | peak RSS GiB | planted found "
        "| code |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(runs, key=lambda r: (r["size"], r["backend"])):
        s = r["seconds"]
        lines.append(
            f"| {r['size']:,} | {r['backend']} | {s['fit (cells, P)']:.0f} | {s['C_T curve']:.0f} | "
            f"{s['copy finder']:.0f} | {r['total_seconds'] / 60:.1f} | {r['peak_rss_gib']:.2f} | "
            f"{r['planted_found']:.0%} | {r.get('commit', '')} |"
        )
    return "\n".join(lines)


def projection(runs: list[dict], layers: int, dim: int, images: float = 1e8, shard: int = 1_000_000) -> str:
    """10^8 training images as shards of 10^6, from the measured runs: what one more shard costs (the run at
    10^6 less the smallest run's fixed part: KMeans on its sample, the bootstrap), and the storage per image."""
    faiss_runs = {r["size"]: r for r in runs if r["backend"] == "faiss"}
    if shard not in faiss_runs:
        return ""
    fixed = faiss_runs[min(faiss_runs)]["total_seconds"]
    per_shard = faiss_runs[shard]["total_seconds"] - fixed
    shards = int(images // shard)
    hours = shards * per_shard / 3600
    stored = layers * dim * 2
    return (
        f"Projected for {images:.0e} training images as {shards} shards of {shard:,} (one job each, the per-shard "
        f"top-1 merged): one shard costs {per_shard / 60:.1f} min on these cores beyond the fixed "
        f"{fixed / 60:.1f} min (an upper bound: a shard job needs no KMeans fit and no bootstrap), so {hours:.1f} "
        f"hours of such a node in all, {hours / 50:.2f} h on 50 of them. "
        f"Storage: {stored:,} bytes per image for {layers} float16 layers of {dim} ({stored * images / 1e12:.1f} TB); "
        f"an IVF-PQ code of 48 bytes plus an 8-byte id per layer would hold {56 * layers * images / 1e9:.0f} GB."
    )


def report(summary: dict, out: Path) -> None:
    runs = summary["runs"]
    text = table(runs) + "\n\n" + f"Time grows as |T|^{summary['growth_exponent_faiss']:.2f} (FAISS, fitted). "
    text += projection(runs, summary["layers"], summary["dim"]) + "\n"
    out.with_suffix(".md").write_text(text)
    plot(runs, out.with_suffix(".png"), f"C_T + copy finder, all layers, from disk: {summary['data']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="|T| values")
    parser.add_argument("--queries", type=int, default=10_000, help="|P| = |Q|")
    parser.add_argument("--layers", type=int, default=13)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--torch-up-to", type=int, default=100_000, help="largest |T| the torch search is run on")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default="/tmp/memprint_scaling", help="where the synthetic embeddings are cached")
    parser.add_argument("--out", default="benchmarks/results/scaling.json")
    parser.add_argument("--report-only", action="store_true", help="redraw the table and figure from --out")
    parser.add_argument("--merge", action="store_true", help="keep --out's runs of other sizes, replace these")
    parser.add_argument("--one", nargs=4, metavar=("TRAIN", "TEST", "Q", "BACKEND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the measured child process
        *files, backend = args.one
        print(json.dumps(measure(*files, backend, args.threads, Path(args.data) / f"work_{backend}")))
        return
    runs, out = [], Path(args.out)
    if args.report_only:
        report({"layers": args.layers, "dim": args.dim} | json.loads(out.read_text()), out)
        return
    for size in args.sizes:
        files = make_data(Path(args.data), size, args.queries, args.layers, args.dim)
        for backend in ("faiss", "torch") if size <= args.torch_up_to else ("faiss",):
            command = [sys.executable, __file__, "--one", *map(str, files.values()), backend]
            command += ["--threads", str(args.threads), "--data", args.data]
            result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            runs.append({"size": size, "backend": backend, "commit": commit(), **result})
            print(
                f"|T| = {size:,} {backend}: {result['total_seconds'] / 60:.1f} min, {result['peak_rss_gib']:.2f} GiB",
                flush=True,
            )
    for size in args.sizes:  # both backends on one size: the same answer, bit for bit
        pair = [r for r in runs if r["size"] == size]
        if len(pair) == 2:
            same = pair[0]["ct"] == pair[1]["ct"] and pair[0]["flagged"] == pair[1]["flagged"]
            pair[0]["same_as_torch"] = pair[1]["same_as_torch"] = same
    if args.merge and out.exists():
        measured = {(r["size"], r["backend"]) for r in runs}
        runs = [r for r in json.loads(out.read_text())["runs"] if (r["size"], r["backend"]) not in measured] + runs
        runs.sort(key=lambda r: (r["size"], r["backend"]))
    faiss_runs = sorted((r for r in runs if r["backend"] == "faiss"), key=lambda r: r["size"])
    summary = {
        "machine": f"{platform.processor() or platform.machine()}, {args.threads} threads",
        "data": f"{args.layers} layers x {args.dim}-d, Gaussian mixture ({COMPONENTS} components in {LATENT}-d, "
        f"noise {NOISE}), |P| = |Q| = {args.queries:,}, 1% of Q near-copies of T",
        "layers": args.layers,
        "dim": args.dim,
        "growth_exponent_faiss": fit_growth([r["size"] for r in faiss_runs], [r["total_seconds"] for r in faiss_runs]),
        "runs": [{k: v for k, v in r.items() if k != "flagged"} for r in runs],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1))
    report(summary, out)
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
