"""Does a smaller encoder input size keep the shape of the C_T-layer curves?

Reads the curves of one run that embedded the same sets with one encoder at two input sizes (configs/
cifar10_input_size.yaml: DINOv2 ViT-S/14 at 112 and 224 px) and writes, per C_T setting and generator, the
Pearson and Spearman correlation of the two curves over the blocks (layers 1..L), the mean absolute difference,
and whether the early-minus-late contrast has the same sign; and a figure of both curves:

    python benchmarks/input_size_check.py --results results --small dinov2_112 --large dinov2_224 \
        --out docs/results/cifar10_dinov2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import pearsonr, spearmanr

from memprint.io import read_csv, read_csv_provenance

SETTINGS = {"ct": "scores/ct", "bai_code": "scores/bai_code"}


def curves(results: Path, setting: str, encoder: str) -> dict[str, pd.DataFrame]:
    """Generator (from each file's provenance) -> its curve under one C_T setting and encoder."""
    files = sorted((results / SETTINGS[setting] / encoder).glob("*.csv"))
    return {read_csv_provenance(f)["generator"]: read_csv(f) for f in files if read_csv_provenance(f).get("generator")}


def weights_used(results: Path, encoders: tuple[str, ...]) -> str:
    """Which weights made each encoder's curves, from the curve files' provenance."""
    named = []
    for encoder in encoders:
        provenance = read_csv_provenance(next((results / "scores" / "ct" / encoder).glob("*.csv")))
        named.append(f"{encoder}: {provenance['weights_source']} (sha256 {provenance['weights_sha256'][:12]})")
    return "; ".join(named)


def compare(small: pd.DataFrame, large: pd.DataFrame) -> dict:
    a, b = small["value"].to_numpy()[1:], large["value"].to_numpy()[1:]  # blocks only, as the claims and fingerprints
    third = max(1, len(a) // 3)
    contrast = [x[:third].mean() - x[-third:].mean() for x in (a, b)]
    return {
        "pearson": pearsonr(a, b)[0],
        "spearman": spearmanr(a, b)[0],
        "mean_abs_diff": np.abs(a - b).mean(),
        "early_minus_late_small": contrast[0],
        "early_minus_late_large": contrast[1],
        "same_contrast_sign": bool(np.sign(contrast[0]) == np.sign(contrast[1])),
    }


def main(argv=None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--small", default="dinov2_112")
    parser.add_argument("--large", default="dinov2_224")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows, fig = [], plt.figure(figsize=(12, 4.8))
    weights = weights_used(args.results, (args.small, args.large))
    for panel, setting in enumerate(SETTINGS, start=1):
        small, large = curves(args.results, setting, args.small), curves(args.results, setting, args.large)
        ax = fig.add_subplot(1, len(SETTINGS), panel)
        for index, generator in enumerate(sorted(set(small) & set(large))):
            rows.append({"setting": setting, "generator": generator, **compare(small[generator], large[generator])})
            colour = f"C{index}"
            ax.plot(large[generator]["layer"], large[generator]["value"], color=colour, label=f"{generator}")
            ax.plot(small[generator]["layer"], small[generator]["value"], color=colour, linestyle="--")
        ax.set(title=f"{setting}: {args.large} (solid) vs {args.small} (dashed)", xlabel="layer", ylabel="C_T")
        ax.axhline(0, color="grey", linewidth=0.5)
    fig.axes[0].legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.text(0.01, 0.01, f"weights: {weights}", fontsize=7, color="grey")
    args.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out / "input_size_check.png", dpi=120)
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "input_size_check.csv", index=False)
    lines = [
        "| C_T setting | generator | Pearson r | Spearman | mean abs diff | early − late, 112 / 224 px |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.setting} | {r.generator} | {r.pearson:.3f} | {r.spearman:.3f} | {r.mean_abs_diff:.2f} | "
        f"{r.early_minus_late_small:.2f} / {r.early_minus_late_large:.2f} |"
        for r in table.itertuples()
    ]
    summary = (
        f"Median Pearson r {table['pearson'].median():.3f} (smallest {table['pearson'].min():.3f}); the "
        f"early-minus-late contrast keeps its sign in {table['same_contrast_sign'].sum()} of {len(table)} "
        f"curves. Weights: {weights}."
    )
    (args.out / "input_size_check.md").write_text("\n".join(lines) + "\n\n" + summary + "\n")
    print(summary)


if __name__ == "__main__":
    main()
