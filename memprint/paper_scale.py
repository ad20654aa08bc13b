"""What moves the C_T-layer curves between the CPU configuration and the paper's: per curve the slope per block
with its bootstrap interval, and per factor a computed verdict on how far it moves a group's slope.

The slope is the least-squares slope over blocks 1..12 (the patch embedding, layer 0, is not in the paper's
curves). A factor's verdict compares the slope of a group's mean curve with the factor changed against the CPU
setup's, replicate by replicate: the 95% interval of the difference either excludes 0 ("moves ... by") or not
("no effect within"). The effect size (rank-biserial, -1..1) is the scale the verdicts are read on, since C_T
itself grows like the square root of the set sizes; the C_T slope is reported beside it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from memprint.ct_interval import percentile_interval

FIRST_BLOCK = 1
SETUP_FIELDS = ("encoder", "train", "test", "generated")


def slopes(curves: np.ndarray) -> np.ndarray:
    """Least-squares slope per block of each row of ``curves`` (..., layers), over blocks 1 and up (NaN-aware
    rows are left NaN)."""
    y = np.asarray(curves, float)[..., FIRST_BLOCK:]
    x = np.arange(y.shape[-1], dtype=float)
    x -= x.mean()
    return ((y - y.mean(-1, keepdims=True)) * x).sum(-1) / (x**2).sum()


def _curve(curves: pd.DataFrame, setup, setting: str, measure: str, generator: str) -> tuple[np.ndarray, np.ndarray]:
    """(values (layers,), replicates (B, layers)) of one curve."""
    chosen = curves[
        np.logical_and.reduce([curves[f] == getattr(setup, f) for f in SETUP_FIELDS])
        & (curves["setting"] == setting)
        & (curves["measure"] == measure)
        & (curves["generator"] == generator)
    ].sort_values("layer")
    return chosen["value"].to_numpy(float), np.stack(chosen["replicates"].to_list(), axis=1)


def group_curve(curves: pd.DataFrame, setup, setting: str, measure: str, members: list[str]):
    """The mean curve of a group of generators, and its replicates (replicate b of each member averaged)."""
    parts = [_curve(curves, setup, setting, measure, g) for g in members]
    return np.mean([v for v, _ in parts], axis=0), np.nanmean(np.stack([r for _, r in parts]), axis=0)


def curve_table(curves: pd.DataFrame) -> pd.DataFrame:
    """Every curve point with its 95% percentile interval (the replicates dropped)."""
    low, high = percentile_interval(np.stack(curves["replicates"].to_list()), axis=1)
    return curves.drop(columns="replicates").assign(low=low, high=high)


def slope_table(curves: pd.DataFrame, paper: dict[str, np.ndarray | None], groups: dict[str, list[str]]):
    """Per setup, setting, measure and generator (and group mean): the slope per block with its interval, and the
    Pearson correlation with the paper's curve where the paper has one."""
    rows = []
    keys = [*SETUP_FIELDS, "setting", "measure"]
    for key, block in curves.groupby(keys, sort=False):
        setup = pd.Series(dict(zip(keys, key)))
        named = {g: [g] for g in block["generator"].unique()} | groups
        for name, members in named.items():
            value, replicates = group_curve(curves, setup, key[-2], key[-1], members)
            low, high = percentile_interval(slopes(replicates))
            theirs = paper.get(name) if len(members) == 1 else None
            compared = {"pearson_with_paper": np.nan, "paper_slope": np.nan}
            if theirs is not None:
                compared = {
                    "pearson_with_paper": float(np.corrcoef(theirs, value[FIRST_BLOCK:])[0, 1]),
                    "paper_slope": float(slopes(np.r_[np.nan, theirs])),
                }
            row = {"curve": name, "slope": float(slopes(value)), "low": float(low), "high": float(high)}
            rows.append({**setup.to_dict(), **row, **compared})
    return pd.DataFrame(rows)


def verdict(difference: float, low: float, high: float, group: str) -> str:
    """The computed sentence of one factor."""
    if not np.isfinite(low) or not np.isfinite(high):
        return "undefined (no cell qualified in some replicates)"
    if low > 0 or high < 0:
        return f"moves the {group} slope by {difference:+.4f} [{low:+.4f}, {high:+.4f}] per block"
    return f"no effect within the interval [{low:+.4f}, {high:+.4f}] per block"


def verdict_table(curves: pd.DataFrame, setups: dict, groups: dict[str, list[str]]) -> pd.DataFrame:
    """Per factor (a setup other than the CPU one, and the C_T setting), C_T setting and group: how much the
    factor moves the slope of the group's effect-size curve (and of its C_T curve) against the CPU setup."""
    base = setups["CPU setup"]
    settings = list(curves["setting"].unique())
    comparisons = [
        (name, (base, setting), (setup, setting), setting)
        for setting in settings
        for name, setup in setups.items()
        if name != "CPU setup"
    ]
    comparisons += [(f"C_T setting {settings[0]} -> {other}", (base, settings[0]), (base, other), "both")
                    for other in settings[1:]]  # fmt: skip
    rows = []
    for factor, (setup_a, setting_a), (setup_b, setting_b), setting in comparisons:
        for group, members in groups.items():
            row = {"factor": factor, "setting": setting, "group": group}
            for measure in ("effect", "ct"):
                value_a, reps_a = group_curve(curves, setup_a, setting_a, measure, members)
                value_b, reps_b = group_curve(curves, setup_b, setting_b, measure, members)
                difference = float(slopes(value_b) - slopes(value_a))
                low, high = percentile_interval(slopes(reps_b) - slopes(reps_a))
                row |= {
                    f"{measure}_slope_before": float(slopes(value_a)),
                    f"{measure}_slope_after": float(slopes(value_b)),
                    f"{measure}_difference": difference,
                    f"{measure}_low": float(low),
                    f"{measure}_high": float(high),
                }
            row["verdict"] = verdict(row["effect_difference"], row["effect_low"], row["effect_high"], group)
            rows.append(row)
    return pd.DataFrame(rows)


def rises_with_depth(curves: pd.DataFrame, groups: dict[str, list[str]], setup) -> pd.DataFrame:
    """The paper's claim "C_T rises with depth", per group and setting at one setup: the C_T slope's interval
    above 0 (rises), below (falls), or across it (no trend)."""
    rows = []
    for setting in curves["setting"].unique():
        for group, members in groups.items():
            for measure in ("ct", "effect"):
                value, replicates = group_curve(curves, setup, setting, measure, members)
                low, high = percentile_interval(slopes(replicates))
                trend = "rises" if low > 0 else "falls" if high < 0 else "no trend within the interval"
                rows.append(
                    {"setting": setting, "group": group, "measure": measure, "slope": float(slopes(value)),
                     "low": float(low), "high": float(high), "verdict": trend}
                )  # fmt: skip
    return pd.DataFrame(rows)


def plot_ablation(curves: pd.DataFrame, setups: dict, groups: dict[str, list[str]], png, pdf, note: str) -> None:
    """Effect-size curves of each group under each setup (rows: groups; columns: C_T settings)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    settings = list(curves["setting"].unique())
    fig, axes = plt.subplots(
        len(groups), len(settings), figsize=(5.5 * len(settings), 3.4 * len(groups)), squeeze=False
    )
    colours = dict(zip(setups, sns.color_palette("colorblind", len(setups))))
    for row, (group, members) in zip(axes, groups.items()):
        for ax, setting in zip(row, settings):
            for name, setup in setups.items():
                value, replicates = group_curve(curves, setup, setting, "effect", members)
                low, high = percentile_interval(replicates)
                layers = np.arange(len(value))
                style = {"lw": 2.2, "ls": "-"} if name in ("CPU setup", "paper setup") else {"lw": 1.2, "ls": "--"}
                ax.plot(layers, value, color=colours[name], label=name, **style)
                ax.fill_between(layers, low, high, color=colours[name], alpha=0.12, lw=0)
            ax.axhline(0, color="0.3", lw=0.8)
            ax.set(title=f"{group} ({setting})", xlabel="layer (0: patch embedding)", ylabel="C_T effect size")
    axes[0, -1].legend(fontsize=7, loc="best")
    fig.suptitle("From the CPU configuration to the paper's, one factor at a time (95% bootstrap bands)")
    fig.text(0.01, 0.003, note, fontsize=6)
    fig.tight_layout(rect=(0, 0.02, 1, 0.98))
    fig.savefig(png, dpi=130)
    fig.savefig(pdf)
    plt.close(fig)


def _moves(row) -> bool:
    return row["verdict"].startswith("moves")


def verdict_markdown(verdicts: pd.DataFrame, depth: pd.DataFrame) -> str:
    """The ablation table (one row per factor and setting, a column per group) and the paragraph its numbers
    say, both computed from the tables."""
    groups = list(dict.fromkeys(verdicts["group"]))
    lines = [
        "| factor | C_T setting | " + " | ".join(groups) + " |",
        "|---|---|" + "---|" * len(groups),
    ]
    for (factor, setting), block in verdicts.groupby(["factor", "setting"], sort=False):
        cells = []
        for group in groups:
            row = block[block["group"] == group].iloc[0]
            change = f"{row['effect_difference']:+.4f} [{row['effect_low']:+.4f}, {row['effect_high']:+.4f}]"
            cells.append(f"**{change}**" if _moves(row) else f"{change} (no effect)")
        lines.append(f"| {factor} | {setting} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Change of the slope per block of each group's effect-size curve (rank-biserial, blocks 1..12) against the",
        "CPU setup, 95% bootstrap interval; bold: the interval excludes 0.",
        "",
        "| C_T setting | group | C_T slope per block at the paper's scale [95%] | verdict |",
        "|---|---|---|---|",
    ]
    for row in depth[depth["measure"] == "ct"].itertuples():
        lines.append(
            f"| {row.setting} | {row.group} | {row.slope:+.3f} [{row.low:+.3f}, {row.high:+.3f}] | {row.verdict} |"
        )
    return "\n".join(lines) + "\n\n" + conclusion(verdicts, depth) + "\n"


def conclusion(verdicts: pd.DataFrame, depth: pd.DataFrame) -> str:
    """What the numbers say about the paper's "C_T rises with depth" and which factor moves the curves."""
    real = depth[(depth["measure"] == "ct") & (depth["group"] != "pathological sets")]
    rising = [f"{r.group} ({r.setting})" for r in real.itertuples() if r.verdict == "rises"]
    other = [f"{r.group} ({r.setting}: {r.verdict})" for r in real.itertuples() if r.verdict != "rises"]
    holds = "holds for " + ", ".join(rising) if rising else "holds for no group of real generators"
    movers = verdicts[verdicts.apply(_moves, axis=1) & ~verdicts["factor"].isin(["paper setup"])]
    named = (
        "; ".join(
            f"{factor} ({', '.join(sorted(set(block['group'])))})"
            for factor, block in movers.groupby("factor", sort=False)
        )
        or "none"
    )
    return (
        f"At the paper's scale with this encoder (DINOv2 ViT-S/14 at 224 px, T 50,000, P 10,000), the paper's "
        f'"C_T rises with depth" {holds}'
        + (f"; not for {', '.join(other)}" if other and rising else f" ({', '.join(other)})" if other else "")
        + f". Factors whose change moves a group's effect-size slope beyond its interval: {named}. "
        "Left untested: the encoder itself (the paper's ViT-B/16 in21k and DINO ViT-S/16 are not available offline)."
    )
