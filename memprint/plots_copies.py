"""The copy finder's figures: copy rate by layer, which kind of copying (layer x transform), an auditor's page of
flagged images beside their training matches, and the planted-copies validation."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from memprint.plots import curve_lines, save_figure


def _show(ax, image, caption: str) -> None:
    ax.imshow(image.squeeze(-1) if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=255)
    ax.set_title(caption, fontsize=6)
    ax.axis("off")


def _layer_labels(rates: pd.DataFrame) -> dict:
    """Tick label per layer number: the number, or "px" for the pixel view after the encoder's layers."""
    names = rates.dropna(subset=["layer"]).drop_duplicates("layer").set_index("layer")["layer_name"]
    return {layer: "px" if str(name).startswith("pixels") else str(int(layer)) for layer, name in names.items()}


def plot_copy_rates(rates: pd.DataFrame, level: float, png, pdf, title: str, footnote: str) -> None:
    """Copy rate against layer, one line per generator with its 95% interval as a band; the level (the rate of a
    generator that copies nothing) dashed."""
    sns.set_theme(style="whitegrid", context="paper")
    fig, ax = plt.subplots(figsize=(7, 4.2))
    curves = rates.rename(columns={"copy_rate": "value", "ci_low": "low", "ci_high": "high"})
    curve_lines(curves, ax, legend=True)
    ax.axhline(level, color="0.3", lw=0.8, ls="--")
    labels = _layer_labels(rates)
    pixel_view = ", px = pixel view" if "px" in labels.values() else ""
    ax.set(
        xlabel=f"layer (0 = patch embedding, i = output of block i{pixel_view})",
        ylabel="share of images flagged at this layer",
    )
    ax.set(title=title, ylim=(-0.02, 1.02))
    ax.set_xticks(list(labels), list(labels.values()))
    ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left", title="generator")
    save_figure(fig, png, pdf, footnote)


def plot_copy_kinds(rates: pd.DataFrame, level: float, png, pdf, title: str, footnote: str) -> None:
    """One heatmap per generator: the share of its images with p <= level at each layer under each transform."""
    generators = list(dict.fromkeys(rates["generator"]))
    columns = min(4, len(generators))
    rows = -(-len(generators) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    labels = _layer_labels(rates)
    for i, (ax, generator) in enumerate(zip(axes.flat, generators)):
        grid = rates[rates["generator"] == generator].pivot(index="transform", columns="layer", values="copy_rate")
        ax.axis("on")
        first_column = i % columns == 0  # the matchings named once per row of panels
        sns.heatmap(
            grid,
            vmin=0,
            vmax=1,
            cmap="rocket_r",
            ax=ax,
            cbar=False,
            annot=False,
            yticklabels=first_column,
            xticklabels=[labels.get(layer, layer) for layer in grid.columns],
        )
        ax.set(title=generator, xlabel="layer", ylabel="matching" if first_column else "")
        ax.tick_params(labelsize=6)
    fig.tight_layout(rect=(0, 0, 0.9, 0.92))
    fig.colorbar(plt.cm.ScalarMappable(cmap="rocket_r"), ax=axes, shrink=0.6, label=f"share with p <= {level:g}")
    fig.suptitle(title, y=0.99)
    save_figure(fig, png, pdf, footnote)


def plot_auditor_page(flagged: pd.DataFrame, images: dict, png, pdf, title: str, footnote: str) -> None:
    """Flagged images ranked by p-value, four pairs to a row: each generated image beside the training image it
    matched, shown under the transform that matched, with the best layer and how many layers flag it."""
    pairs = max(1, len(flagged))
    rows = -(-pairs // 4)
    fig, axes = plt.subplots(rows, 8, figsize=(12, 1.9 * rows + 0.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    if flagged.empty:
        axes[0][3].text(1.0, 0.5, "no image flagged at this level", ha="center", va="center")
    for i, pick in enumerate(flagged.itertuples()):
        _, transformed, training = images[pick.sample_id]
        left, right = axes[i // 4][2 * (i % 4)], axes[i // 4][2 * (i % 4) + 1]
        layers = len(str(pick.flagged_layers).split(", "))
        _show(left, transformed, f"{pick.sample_id}\n{pick.transform}, p = {pick.image_p:.2g}")
        _show(right, training, f"{pick.nearest_train_id}\n{pick.layer_name}; {layers} layer{'s' * (layers > 1)}")
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.02, 1, 0.97))
    save_figure(fig, png, pdf, footnote)


def plot_copies_validation(table: pd.DataFrame, level: float, png, pdf, title: str, footnote: str) -> None:
    """Per planted kind: ROC AUC of memprint's image-level statistic beside the two baselines', and the share
    flagged (the pure held-out set's is the false-positive rate, dashed: the nominal level)."""
    sns.set_theme(style="whitegrid", context="paper")
    planted = table[table["set"] == "mix"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    methods = {"memprint": "auc", "pixel L2 (Carlini)": "pixel_l2_auc", "DCR cosine": "dcr_auc"}
    long = pd.concat(
        [planted[["kind", col]].rename(columns={col: "value"}).assign(method=m) for m, col in methods.items()]
    )
    sns.barplot(data=long, x="kind", y="value", hue="method", ax=axes[0])
    axes[0].set(ylabel="ROC AUC (planted vs held-out in the mix)", ylim=(0, 1.02), title="finding the copies")
    axes[0].axhline(0.5, color="0.3", lw=0.8, ls=":")
    flags = {"memprint": "flagged", "pixel L2 (Carlini)": "pixel_l2_flagged", "DCR cosine >= 0.5": "dcr_flagged"}
    long = pd.concat([table[["kind", col]].rename(columns={col: "value"}).assign(method=m) for m, col in flags.items()])
    sns.barplot(data=long, x="kind", y="value", hue="method", ax=axes[1])
    pure = table[table["set"] == "pure held-out"].iloc[0]
    where = list(long["kind"].unique()).index("held-out") - 0.27  # memprint's bar of the held-out set
    error = [[pure["flagged"] - pure["ci_low"]], [pure["ci_high"] - pure["flagged"]]]
    axes[1].errorbar([where], [pure["flagged"]], yerr=error, color="k")
    axes[1].axhline(level, color="0.3", lw=0.8, ls="--")
    axes[1].set(ylabel="share flagged", ylim=(0, 1.02), title=f"flagged at level {level:g} (held-out: false positives)")
    for ax in axes:  # legends under the panels, where they hide no bar
        ax.set_xlabel("planted kind")
        ax.tick_params(axis="x", labelsize=7, labelrotation=30)
        ax.legend(title="method", loc="upper center", bbox_to_anchor=(0.5, -0.36), ncol=3, fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, png, pdf, footnote)
