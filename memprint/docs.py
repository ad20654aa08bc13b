"""Fill generated blocks of a Markdown file from result files, so documented numbers are never typed by hand.

A block is the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``; ``python -m memprint.docs
README.md NAME FILE [FILE ...]`` replaces it with the files' contents, one after another, or, when the files are
C_T curve CSVs (``results/ct/{encoder}/*.csv``), with their table: C_T and its 95% interval per layer.
"""

from __future__ import annotations

import sys
from pathlib import Path

from memprint import MemprintError


def fill_block(markdown: str | Path, name: str, text: str) -> None:
    path = Path(markdown)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    content = path.read_text()
    if content.count(start) != 1 or content.count(end) != 1:
        raise MemprintError(f"{path}: needs exactly one {start} ... {end} block")
    head, rest = content.split(start)
    path.write_text(head + start + "\n" + text.rstrip("\n") + "\n" + end + rest.split(end, 1)[1])


def ct_table(curve_files: dict[str, str], intervals: bool = True) -> str:
    """Generators x layers of C_T (with [low, high] when the curves carry intervals), in Markdown;
    ``curve_files``: generator -> its curve file."""
    from memprint.io import read_csv

    curves = {name: read_csv(path) for name, path in curve_files.items()}
    layers = next(iter(curves.values()))["layer"].tolist()
    lines = ["| generator | " + " | ".join(str(layer) for layer in layers) + " |", "|---" * (len(layers) + 1) + "|"]
    for name, curve in curves.items():
        cells = [
            f"{r.value:.2f}" + (f" [{r.low:.1f}, {r.high:.1f}]" if intervals and "low" in curve else "")
            for r in curve.itertuples()
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def copies_validation_table(path: str) -> str:
    """The planted-copies validation per mix: the layer where the copy score finds the planted samples best (ROC
    AUC), the copy rate there, and C_T of the mix at that layer and at the last one, with 95% intervals."""
    import pandas as pd

    from memprint.io import read_csv

    table = read_csv(path)
    last = table["layer"].max()
    lines = [
        "| mix | best layer (AUC) | copy rate there [95%] | planted found as copies | C_T there [95%] | "
        "C_T at the last layer [95%] |",
        "|---|---|---|---|---|---|",
    ]
    for mix, rows in table.groupby("mix", sort=False):
        best = rows.loc[rows["auc"].idxmax()] if rows["auc"].notna().any() else rows.iloc[-1]
        end = rows[rows["layer"] == last].iloc[0]
        auc = f"{best.layer_name} ({best.auc:.3f})" if pd.notna(best.auc) else f"{best.layer_name} (n/a)"
        found = f"{best.planted_flagged:.0%}" if pd.notna(best.planted_flagged) else "–"
        lines.append(
            f"| {mix} | {auc} | {best.copy_rate:.1%} [{best.ci_low:.1%}, {best.ci_high:.1%}] | {found} | "
            f"{best.ct:.2f} [{best.ct_low:.2f}, {best.ct_high:.2f}] | "
            f"{end.ct:.2f} [{end.ct_low:.2f}, {end.ct_high:.2f}] |"
        )
    return "\n".join(lines) + "\n"


def copy_rates_table(path: str) -> str:
    """Copy rate per generator at the patch embedding, the first block, the middle block and the last block."""
    from memprint.io import read_csv

    rates = read_csv(path)
    layers = sorted(rates["layer"].unique())
    shown = list(dict.fromkeys([layers[0], layers[min(1, len(layers) - 1)], layers[len(layers) // 2], layers[-1]]))
    names = {r.layer: r.layer_name for r in rates.itertuples()}
    lines = ["| generator | " + " | ".join(names[layer] for layer in shown) + " |", "|---" * (len(shown) + 1) + "|"]
    for generator, rows in rates.groupby("generator", sort=False):
        by_layer = rows.set_index("layer")
        lines.append(
            f"| {generator} | "
            + " | ".join(
                f"{by_layer.loc[layer, 'copy_rate']:.1%} [{by_layer.loc[layer, 'ci_low']:.1%}, "
                f"{by_layer.loc[layer, 'ci_high']:.1%}]"
                for layer in shown
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    markdown, name, *files = argv
    if all(f.endswith(".csv") for f in files):
        from memprint.io import read_csv_provenance

        named = {read_csv_provenance(f).get("generator"): f for f in files}
        if None in named:
            raise MemprintError(f"{named[None]}: not a C_T curve file of the pipeline (no generator in its provenance)")
        fill_block(markdown, name, ct_table(named))
    else:
        fill_block(markdown, name, "\n".join(Path(f).read_text().rstrip("\n") + "\n" for f in files))


if __name__ == "__main__":
    main(sys.argv[1:])
