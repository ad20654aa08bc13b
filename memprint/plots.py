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
            fig.savefig(
                tmp,
                format=Path(path).suffix[1:],
                dpi=150,
                bbox_inches="tight",
                metadata={"Title": footnote} if str(path).endswith(".pdf") else {"Description": footnote},
            )
    plt.close(fig)


def curve_lines(curves: pd.DataFrame, ax, legend: bool) -> None:
    """One line per generator, with its 95% interval as a band where the curves carry ``low``/``high``."""
    palette = dict(zip(curves["generator"].unique(), sns.color_palette("husl", curves["generator"].nunique())))
    sns.lineplot(
        data=curves,
        x="layer",
        y="value",
        hue="generator",
        marker="o",
        markersize=4,
        palette=palette,
        ax=ax,
        legend=legend,
    )
    if {"low", "high"} <= set(curves.columns):
        for generator, block in curves.groupby("generator", sort=False):
            ax.fill_between(block["layer"], block["low"], block["high"], color=palette[generator], alpha=0.2, lw=0)


def plot_ct_curves(curves: pd.DataFrame, png, pdf, title: str, footnote: str) -> None:
    """A score against layer, one line per generator (columns generator, layer, value; bands: low, high)."""
    sns.set_theme(style="whitegrid", context="paper")
    fig, ax = plt.subplots(figsize=(7, 4.2))
    curve_lines(curves, ax, legend=True)
    ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
    ax.set(xlabel="layer (0 = patch embedding, i = output of block i)", ylabel="C_T  (< 0: data copying)", title=title)
    ax.set_xticks(sorted(curves["layer"].unique()))
    ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left", title="generator")
    save_figure(fig, png, pdf, footnote)


def plot_similarity_heatmap(
    similarity: pd.DataFrame, png, pdf, title: str, footnote: str, architectures: dict[str, str] | None = None
) -> None:
    """Cosine similarity between generators' C_T-layer curves, grouped by architecture, diagonal crossed out
    (paper figure 6b)."""
    import numpy as np

    if architectures:
        order = sorted(similarity.index, key=lambda g: (architectures[g], g))
        similarity = similarity.loc[order, order]
    sns.set_theme(style="white", context="paper")
    size = 1.5 + 0.55 * len(similarity)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    sns.heatmap(
        similarity,
        vmin=-1,
        vmax=1,
        cmap="vlag",
        annot=len(similarity) <= 14,
        fmt=".2f",
        square=True,
        mask=np.eye(len(similarity), dtype=bool),
        annot_kws={"size": 7},
        cbar_kws={"label": "cosine similarity"},
        ax=ax,
    )
    for i in range(len(similarity)):
        ax.plot([i, i + 1], [i, i + 1], color="0.5", lw=0.8)
        ax.plot([i, i + 1], [i + 1, i], color="0.5", lw=0.8)
    if architectures:
        labels = [architectures[g] for g in similarity.index]
        for i in range(1, len(labels)):
            if labels[i] != labels[i - 1]:
                ax.axhline(i, color="black", lw=1.2)
                ax.axvline(i, color="black", lw=1.2)
    ax.set(title=title, xlabel="", ylabel="")
    save_figure(fig, png, pdf, footnote)


def plot_confusion(matches: pd.DataFrame, png, pdf, title: str, footnote: str) -> None:
    """One confusion matrix (true vs matched architecture, counts over splits and targets) per method."""
    panels = list(matches.groupby(["method", "matching"], sort=False))
    labels = sorted(set(matches["architecture"]) | set(matches["match_architecture"]))
    sns.set_theme(style="white", context="paper")
    side = 1.2 + 0.45 * len(labels)
    fig, axes = plt.subplots(1, len(panels), figsize=(side * len(panels), side), squeeze=False)
    for ax, ((method, matching), block) in zip(axes[0], panels):
        counts = pd.crosstab(block["architecture"], block["match_architecture"]).reindex(
            index=labels, columns=labels, fill_value=0
        )
        sns.heatmap(counts, annot=True, fmt="d", cmap="Blues", cbar=False, square=True, annot_kws={"size": 7}, ax=ax)
        ax.set(
            title=f"{method}\n{matching}: {block['correct'].mean():.2f}",
            xlabel="matched architecture",
            ylabel="true architecture",
        )
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, png, pdf, footnote)


def plot_open_set(curves: pd.DataFrame, png, pdf, title: str, footnote: str) -> None:
    """ROC of open-set rejection: accepting a target as a known architecture when its best score passes a threshold."""
    sns.set_theme(style="whitegrid", context="paper")
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for (method, matching), block in curves.groupby(["method", "matching"], sort=False):
        ax.plot(
            block["false_accept"], block["true_accept"], label=f"{method}, {matching} (AUC {block['auc'].iloc[0]:.2f})"
        )
    ax.plot([0, 1], [0, 1], color="0.5", ls="--", lw=0.8)
    ax.set(
        xlabel="unknown architecture accepted (false accept rate)",
        ylabel="known architecture accepted (true accept rate)",
        title=title,
    )
    ax.legend(fontsize=6, loc="lower right")
    save_figure(fig, png, pdf, footnote)


def plot_image_rows(rows: dict[str, list], png, pdf, title: str, footnote: str) -> None:
    """Rows of images (uint8 HWC) with a caption under each; one row per key of ``rows``."""
    width = max(1, *(len(images) for images in rows.values()))
    fig, axes = plt.subplots(len(rows), width, figsize=(1.7 * width, 1.9 * len(rows)), squeeze=False)
    for axes_row, (label, images) in zip(axes, rows.items()):
        for ax in axes_row:
            ax.axis("off")
        for ax, (image, caption) in zip(axes_row, images):
            ax.imshow(image.squeeze(-1) if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=255)
            ax.set_title(caption, fontsize=6)
        axes_row[0].text(-0.1, 0.5, label, transform=axes_row[0].transAxes, ha="right", va="center", fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.9))  # the title above the captions, not over them
    fig.suptitle(title, y=0.99)
    save_figure(fig, png, pdf, footnote)


def plot_ct_panels(panels: dict[str, tuple[pd.DataFrame, str]], png, pdf, title: str, footnote: str) -> None:
    """One score-against-layer panel per score (title -> (curves, what the values mean)), generators coloured
    alike across panels."""
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.4), squeeze=False)
    for k, (ax, (name, (curves, meaning))) in enumerate(zip(axes[0], panels.items())):
        curve_lines(curves, ax, legend=k == len(panels) - 1)
        if meaning.startswith(("C_T", "C_T with")):
            ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
        ax.set(xlabel="layer", ylabel=meaning.split(":")[0] if meaning else "value", title=name)
        ax.text(0.01, 0.01, meaning, transform=ax.transAxes, fontsize=6, va="bottom", wrap=True)
        ax.set_xticks(sorted(curves["layer"].unique()))
    axes[0][-1].legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left", title="generator")
    fig.suptitle(title)
    save_figure(fig, png, pdf, footnote)
