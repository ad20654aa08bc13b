"""The paper's own C_T-layer curves beside memprint's: Bai et al.'s published numbers (JackHe313/LayerChoice, read
as data through ``configs/published/layerchoice.yaml``) and a memprint run's curves of the nearest sets it has
(published GAN and DDPM samples, the pathological sets) under the Bai et al. code's C_T setting.

    python benchmarks/paper_curves.py --layerchoice ../published_samples --results results \\
        --encoder dinov2_vits14 --score bai_code --out docs/results/cifar10_dinov2

Writes paper_curves.csv (the imported numbers, with their commit), paper_vs_memprint.{png,pdf} and
paper_vs_memprint.md (per pair: each curve's slope over the blocks and their Pearson correlation).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from memprint.io import read_csv, read_csv_provenance, write_csv
from memprint.paper_curves import read_paper_curves

VIT_B = "google/vit-base-patch16-224-in21k"
# panel -> [(label, paper series (file, names, encoder), memprint generator)]
PAIRS = {
    "GANs": [
        (
            "GAN500, DINO ViT-S/16",
            ("plot/GAN500CTScore_plotViT.py", ["Dino_small"], "facebook/dino-vits16"),
            "pub_gans",
        ),
        ("GAN500, ViT-B/16 in21k", ("plot/GAN500CTScore_plotViT.py", ["vit_base"], VIT_B), "pub_gans"),
        (
            "9 StudioGAN models (mean), ViT-B/16",
            ("model_ct_scores.txt", ["BigGAN", "ContraGAN", "SNGAN"], VIT_B),
            "pub_gans",
        ),
    ],
    "diffusion": [
        ("DDPM x3 (mean), ViT-B/16", ("model_ct_scores.txt", ["ddpm"], VIT_B), "pub_ddpm"),
        ("DDIM and PNDM x3 (mean), ViT-B/16", ("model_ct_scores.txt", ["ddim", "pndm"], VIT_B), "pub_ddpm_improved"),
    ],
    "pathological": [
        ("rotated", ("plot.txt", ["rotated"], VIT_B), "rotate_30"),
        ("downsampled", ("plot.txt", ["downsampled"], VIT_B), "down_up_4"),
        ("shuffled", ("plot.txt", ["shuffled"], VIT_B), "shuffle_4x4"),
        ("segmented, noise background", ("plot.txt", ["segmented_noisy"], VIT_B), "fg_noise"),
        ("segmented, real background", ("plot.txt", ["segmented_realworld"], VIT_B), "fg_landscape"),
    ],
}


def paper_series(table: pd.DataFrame, file: str, prefixes: list[str], encoder: str) -> np.ndarray:
    """The mean over the file's series whose names start with one of ``prefixes`` (12 blocks)."""
    picked = table[(table["file"] == file) & (table["encoder"] == encoder) & (table["occurrence"] == 0)]
    picked = picked[picked["series"].str.startswith(tuple(prefixes))]
    return picked.pivot_table(index="series", columns="block", values="value").mean(0).to_numpy()


def slope(y: np.ndarray) -> float:
    x = np.arange(1, len(y) + 1, dtype=float)
    return float(np.polyfit(x, y, 1)[0])


def main(argv=None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layerchoice", required=True, help="folder holding JackHe313/LayerChoice/<path> files")
    parser.add_argument("--manifest", default="configs/published/layerchoice.yaml")
    parser.add_argument("--results", default="results", help="a memprint run's results folder")
    parser.add_argument("--encoder", default="dinov2_vits14")
    parser.add_argument("--score", default="bai_code", help="the memprint score to compare (their code's C_T)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    manifest = yaml.safe_load(Path(args.manifest).read_text())
    paper = read_paper_curves(manifest, args.layerchoice)
    out = Path(args.out)
    source = {"repository": manifest["repository"], "commit": manifest["commit"], "files": list(manifest["files"])}
    write_csv(paper, out / "paper_curves.csv", {"source": source, "what": "Bai et al.'s published C_T-layer values"})

    folder = Path(args.results) / "scores" / args.score / args.encoder
    meta = read_csv_provenance(next(folder.glob("*.csv")))
    fig, axes = plt.subplots(1, len(PAIRS), figsize=(6 * len(PAIRS), 4.6), squeeze=False)
    rows = []
    for ax, (panel, pairs) in zip(axes[0], PAIRS.items()):
        colours = plt.cm.tab10(np.arange(len(pairs)))
        drawn = set()
        for colour, (label, (file, prefixes, encoder), generator) in zip(colours, pairs):
            theirs = paper_series(paper, file, prefixes, encoder)
            ours_file = folder / f"{generator}.csv"
            if len(theirs) == 0 or not ours_file.exists():
                continue
            ours = read_csv(ours_file).iloc[1:]  # blocks 1..12 (layer 0, the patch embedding, is not in theirs)
            blocks = np.arange(1, len(theirs) + 1)
            ax.plot(blocks, theirs, "--", color=colour, label=f"paper: {label}")
            if generator not in drawn:
                ax.plot(ours["layer"], ours["value"], "-o", ms=3, color=colour, label=f"memprint: {generator}")
                ax.fill_between(ours["layer"], ours["low"], ours["high"], color=colour, alpha=0.15, lw=0)
                drawn.add(generator)
            y = ours["value"].to_numpy()[: len(theirs)]
            rows.append(
                {
                    "panel": panel,
                    "paper": label,
                    "memprint": generator,
                    "paper_slope": slope(theirs),
                    "memprint_slope": slope(y),
                    "pearson": float(np.corrcoef(theirs, y)[0, 1]),
                    "paper_range": f"{theirs.min():.2f} .. {theirs.max():.2f}",
                    "memprint_range": f"{y.min():.2f} .. {y.max():.2f}",
                }
            )
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set(title=panel, xlabel="block", ylabel="C_T")
        ax.legend(fontsize=6)
    fig.suptitle(f"Bai et al.'s published curves (dashed) beside memprint's ({args.score}, {args.encoder}; solid)")
    note = (
        f"paper: {manifest['repository']}@{manifest['commit'][:12]} (their encoders at 224 px, T 50,000, 500-1,500 "
        f"samples); memprint: {meta.get('weights_source')} at its configured input size, score {args.score} "
        f"{meta.get('settings')}"
    )
    fig.text(0.01, 0.005, note, fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    for ext in ("png", "pdf"):
        fig.savefig(out / f"paper_vs_memprint.{ext}", dpi=130)
    table = pd.DataFrame(rows)
    lines = [
        "| panel | paper curve | memprint set | slope paper | slope memprint | Pearson | range paper | range memprint |"
    ]
    lines.append("|---|---|---|---|---|---|---|---|")
    lines += [
        f"| {r.panel} | {r.paper} | {r.memprint} | {r.paper_slope:+.2f} | {r.memprint_slope:+.2f} | {r.pearson:.2f} | "
        f"{r.paper_range} | {r.memprint_range} |"
        for r in table.itertuples()
    ]
    (out / "paper_vs_memprint.md").write_text("\n".join(lines) + f"\n\n{note}\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
