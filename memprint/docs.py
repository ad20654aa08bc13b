"""Fill generated blocks of a Markdown file from result files, so documented numbers are never typed by hand.

A block is the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``; ``python -m memprint.docs
README.md NAME FILE [FILE ...]`` replaces it with the files' contents, one after another, or, when the files are
score curve CSVs (``results/scores/{score}/{encoder}/*.csv``), with their table: the value and its 95% interval per
layer.
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


def ct_table(curve_files: dict[str, str], intervals: bool = True, layers: list[int] | None = None) -> str:
    """Generators x layers of C_T (with [low, high] when the curves carry intervals), in Markdown;
    ``curve_files``: generator -> its curve file; ``layers``: the layers shown (all by default)."""
    from memprint.io import read_csv

    curves = {name: read_csv(path) for name, path in curve_files.items()}
    if layers is not None:
        curves = {name: curve[curve["layer"].isin(layers)] for name, curve in curves.items()}
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
    """The planted-copies validation per kind: ROC AUC and share flagged of memprint, the pixel-L2 baseline and
    DCR's cosine rule; the held-out row's share is the false-positive rate, with its 95% interval."""
    import pandas as pd

    from memprint.io import read_csv

    table = read_csv(path)
    lines = [
        "| set | kind | images | memprint AUC | memprint flagged [95%] | pixel L2 AUC | pixel L2 flagged | "
        "DCR cosine AUC | DCR flagged (cos >= 0.5) | source found |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():

        def auc(value):
            return f"{value:.3f}" if pd.notna(value) else "–"

        lines.append(
            f"| {r.set} | {r.kind} | {r.images} | {auc(getattr(r, 'auc', None))} | {r.flagged:.1%} "
            f"[{r.ci_low:.1%}, {r.ci_high:.1%}] | {auc(getattr(r, 'pixel_l2_auc', None))} | {r.pixel_l2_flagged:.1%} | "
            f"{auc(getattr(r, 'dcr_auc', None))} | {r.dcr_flagged:.1%} | "
            f"{'–' if pd.isna(getattr(r, 'source_found', None)) else f'{r.source_found:.0%}'} |"
        )
    return "\n".join(lines) + "\n"


def copy_rates_table(path: str) -> str:
    """Per generator: the image-level copy rate (one flag per image, family-wise) and the per-layer rates at the
    patch embedding, the first block, the middle block and the last block, with 95% intervals."""
    from memprint.io import read_csv

    rates = read_csv(path)
    image_level = rates[rates["layer"].isna()].set_index("generator")
    per_layer = rates[rates["layer"].notna()]
    layers = sorted(per_layer["layer"].unique())
    shown = list(dict.fromkeys([layers[0], layers[min(1, len(layers) - 1)], layers[len(layers) // 2], layers[-1]]))
    names = {r.layer: r.layer_name for r in per_layer.itertuples()}

    def cell(row) -> str:
        return f"{row['copy_rate']:.1%} [{row['ci_low']:.1%}, {row['ci_high']:.1%}]"

    header = ["generator", "image level (any layer, any transform)", *(f"layer {int(k)} ({names[k]})" for k in shown)]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for generator, rows in per_layer.groupby("generator", sort=False):
        by_layer = rows.set_index("layer")
        cells = [cell(image_level.loc[generator]), *(cell(by_layer.loc[layer]) for layer in shown)]
        lines.append(f"| {generator} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m memprint.docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("markdown", help="the Markdown file holding the block")
    parser.add_argument("name", help="the block's name")
    parser.add_argument("files", nargs="+", help="score curve CSVs (a table) or text files (pasted)")
    parser.add_argument("--layers", default=None, help="score curves only: the layers shown, e.g. 0,1,6,12")
    args = parser.parse_args(argv)
    if all(f.endswith(".csv") for f in args.files):
        from memprint.io import read_csv_provenance

        named = {read_csv_provenance(f).get("generator"): f for f in args.files}
        if None in named:
            raise MemprintError(f"{named[None]}: not a C_T curve file of the pipeline (no generator in its provenance)")
        layers = [int(layer) for layer in args.layers.split(",")] if args.layers else None
        fill_block(args.markdown, args.name, ct_table(named, layers=layers))
    else:
        fill_block(args.markdown, args.name, "\n".join(Path(f).read_text().rstrip("\n") + "\n" for f in args.files))


if __name__ == "__main__":
    main(sys.argv[1:])
