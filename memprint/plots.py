"""Figures (seaborn/matplotlib), each saved as PNG and PDF with a footnote naming its data and weights."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from memprint.io import atomic_path


def save_figure(fig, png: str | Path, pdf: str | Path, footnote: str) -> None:
    fig.text(0.01, -0.04, footnote, fontsize=6, color="0.4", ha="left", va="top", wrap=True)
    for path in (png, pdf):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix[1:], dpi=150, bbox_inches="tight",
                        metadata={"Title": footnote} if str(path).endswith(".pdf") else {"Description": footnote})
    plt.close(fig)


def plot_ct_curves(curves: pd.DataFrame, png, pdf, title: str, footnote: str) -> None:
    """C_T against layer, one line per generator (columns generator, layer, ct)."""
    sns.set_theme(style="whitegrid", context="paper")
    fig, ax = plt.subplots(figsize=(7, 4.2))
    sns.lineplot(data=curves, x="layer", y="ct", hue="generator", marker="o", ax=ax)
    ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
    ax.set(xlabel="layer (0 = patch embedding, i = output of block i)", ylabel="C_T  (< 0: data copying)",
           title=title)
    ax.set_xticks(sorted(curves["layer"].unique()))
    ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left", title="generator")
    save_figure(fig, png, pdf, footnote)


def plot_similarity_heatmap(similarity: pd.DataFrame, png, pdf, title: str, footnote: str) -> None:
    """Cosine similarity between generators' C_T-layer curves."""
    sns.set_theme(style="white", context="paper")
    size = 1.5 + 0.55 * len(similarity)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    sns.heatmap(similarity, vmin=-1, vmax=1, cmap="vlag", annot=len(similarity) <= 14, fmt=".2f", square=True,
                annot_kws={"size": 7}, cbar_kws={"label": "cosine similarity"}, ax=ax)
    ax.set(title=title, xlabel="", ylabel="")
    save_figure(fig, png, pdf, footnote)
