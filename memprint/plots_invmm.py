"""InvMM's score distributions: duplicated against single training images, never-reproduced ones on a row above."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from memprint.plots import save_figure


def plot_invmm_scores(shown: pd.DataFrame, png, pdf, title: str, footnote: str) -> None:
    """One dot per scored image (``shown`` from invmm_validation.scores_for_plot), a box per group over the
    reproduced ones; images never reproduced within the step budget sit on the dashed line at the top."""
    sns.set_theme(style="whitegrid", context="paper")
    fig, ax = plt.subplots(figsize=(6, 4))
    order = ["duplicated in T", "single in T"]
    reproduced = shown[shown["reproduced"] == "reproduced"]
    if len(reproduced):
        sns.boxplot(reproduced, x="group", y="shown", order=order, color="0.9", showfliers=False, ax=ax, width=0.5)
    sns.stripplot(
        shown,
        x="group",
        y="shown",
        hue="reproduced",
        order=order,
        hue_order=["reproduced", "never reproduced"],
        palette={"reproduced": "tab:blue", "never reproduced": "tab:red"},
        size=6,
        jitter=0.15,
        ax=ax,
    )
    never = shown[shown["reproduced"] == "never reproduced"]
    if len(never):
        ax.axhline(never["shown"].iloc[0], color="tab:red", lw=0.8, ls="--")
    ax.set(title=title, xlabel="", ylabel="InvMM score (KL to N(0, I); lower = more memorized)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    save_figure(fig, png, pdf, footnote)
