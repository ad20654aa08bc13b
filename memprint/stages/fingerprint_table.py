"""Table 1 and beyond: closed-set and leave-one-model-out accuracy with 95% cluster-bootstrap intervals, the
open-set ROC, and the wall time of one split per method (its fixed costs included, read from the provenance of
the files that paid them)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from memprint import MemprintError
from memprint.io import atomic_path, open_h5, read_csv, read_csv_provenance, write_csv

STATISTICS = "statistics (mean, std, FID)"
SET_KEYS = ["generator", "architecture", "run", "split", "role", "set_size"]


def _seconds(path: str) -> float:
    """The ``seconds`` a pipeline HDF5 file's provenance records (embedding, C_T reference)."""
    with open_h5(path) as f:
        return float(f.attrs["seconds"])


def _methods(curves: pd.DataFrame, statistics: pd.DataFrame) -> tuple[dict, dict]:
    """Each method's feature of every protocol set, and the seconds each set cost."""
    from memprint.fingerprint import curve_matrix

    groups = curves.groupby(["score", "encoder"], sort=False)
    features = {_method(score, encoder): curve_matrix(block) for (score, encoder), block in groups}
    columns = [c for c in statistics.columns if c.startswith(("mean_c", "std_c")) or c == "fid"]
    features[STATISTICS] = statistics.set_index(SET_KEYS)[columns]
    set_seconds = {
        _method(score, encoder): block.drop_duplicates(["generator", "split", "role", "set_size"])[
            ["generator", "split", "role", "set_size", "seconds"]
        ]
        for (score, encoder), block in groups
    }
    set_seconds[STATISTICS] = statistics[["generator", "split", "role", "set_size", "seconds"]]
    return features, set_seconds


def _method(score: str, encoder: str) -> str:
    """A fingerprint method's name: the score's layer curves through one encoder."""
    return f"{score}-layer ({encoder})"


def _costs(embeddings: dict[str, dict[str, str]], references: dict[str, dict[str, str]], statistics_file: str):
    """Per method: what it pays once, and the encoder whose embedding time it pays per image."""
    embed_seconds = {
        encoder: {name: _seconds(path) for name, path in files.items()} for encoder, files in embeddings.items()
    }
    fixed = {
        _method(score, encoder): seconds["train"] + seconds["test"] + _seconds(references[score][encoder])
        for score in references
        for encoder, seconds in embed_seconds.items()
    }
    per_image = {_method(score, encoder): encoder for score in references for encoder in embeddings}
    stats_meta = read_csv_provenance(statistics_file)
    fixed[STATISTICS] = stats_meta["test_feature_seconds"]
    if stats_meta.get("features_encoder"):
        per_image[STATISTICS] = stats_meta["features_encoder"]
        fixed[STATISTICS] += embed_seconds[stats_meta["features_encoder"]]["test"]
    return embed_seconds, fixed, per_image


def _evaluate(features: dict, classifier_files: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every target's match under every method (closed set, leave one model out), and the open-set ROC curves."""
    from memprint.fingerprint import closed_set, leave_one_model_out, open_set, pair_scores, roc

    evaluations, open_tables = [], []
    for method, sets in features.items():
        scores = pair_scores(sets)
        for evaluation, matches in (
            ("closed set", closed_set(scores)),
            ("leave one model out", leave_one_model_out(scores)),
        ):
            evaluations.append(
                matches.rename(columns={"method": "matching"}).assign(method=method, evaluation=evaluation)
            )
        for (matching, size), block in open_set(scores).groupby(["method", "set_size"]):
            curve, auc = roc(block)
            open_tables.append(curve.assign(method=method, matching=matching, set_size=size, auc=auc))
    for path in classifier_files:
        votes = read_csv(path)
        votes = votes[votes["target"].isin(set(features[STATISTICS].index.get_level_values("generator")))]
        name = read_csv_provenance(path)["classifier"]
        evaluations.append(
            votes.assign(
                method=f"classifier ({name})",
                matching="majority vote",
                evaluation="closed set",
                match=None,
                score=votes["vote_share"],
                correct=votes["match_architecture"] == votes["architecture"],
            )
        )
    return pd.concat(evaluations, ignore_index=True), pd.concat(open_tables, ignore_index=True)


def fingerprint_table(
    curve_files: list[str],
    statistics_file: str,
    classifier_files: list[str],
    embeddings: dict[str, dict[str, str]],
    references: dict[str, dict[str, str]],
    matches_out: str,
    table_out: str,
    markdown_out: str,
    open_set_out: str,
    seed: int = 0,
    left_out: dict[str, str] | None = None,
) -> pd.DataFrame:
    """``embeddings``: encoder -> image set (train, test, every generator) -> embedding file; ``references``:
    score -> encoder -> its reference file. Their provenance gives the embedding and reference-fit seconds.
    ``left_out``: generators the protocol could not use and why (too few samples); a generator a score could not
    score is left out too, of every method, so all methods are compared on the same targets."""
    from memprint.fingerprint import accuracy_rows

    left_out = dict(left_out or {})
    for path in curve_files:
        meta = read_csv_provenance(path)
        if meta.get("left_out"):
            left_out[meta["generator"]] = meta["left_out"]
    kept = [(read_csv(path), path) for path in curve_files if read_csv_provenance(path)["generator"] not in left_out]
    curve_tables, curve_files = [table for table, _ in kept], [path for _, path in kept]
    if not curve_tables:
        reasons = "; ".join(f"{name}: {why}" for name, why in left_out.items())
        raise MemprintError(
            f"fingerprinting: no generator is left to match ({reasons}); give the generators more samples or remove "
            "the fingerprint section"
        )
    curves = pd.concat(curve_tables, ignore_index=True)
    statistics = read_csv(statistics_file)
    statistics = statistics[~statistics["generator"].isin(left_out)]
    features, set_seconds = _methods(curves, statistics)
    embed_seconds, fixed, per_image = _costs(embeddings, references, statistics_file)
    sample_counts = curves.groupby("generator")["n_samples"].first()
    matches, open_curves = _evaluate(features, classifier_files)
    table = accuracy_rows(matches, ["evaluation", "method", "matching", "set_size"], seed=seed)

    def wall(row) -> float:
        if row["method"] in set_seconds:
            sets = set_seconds[row["method"]]
            split0 = sets[(sets["split"] == 0) & ((sets["role"] == "target") | (sets["set_size"] == row["set_size"]))]
            embed_share = 0.0
            if row["method"] in per_image:  # embedding the generators' images, prorated per image
                seconds = embed_seconds[per_image[row["method"]]]
                embed_share = sum(
                    seconds[g] / sample_counts[g] * n for g, n in split0.groupby("generator")["set_size"].sum().items()
                )
            return fixed[row["method"]] + split0["seconds"].sum() + embed_share
        block = matches[(matches["method"] == row["method"]) & (matches["set_size"] == row["set_size"])]
        return float(block.loc[block["split"] == 0, "seconds"].iloc[0])

    table["wall_seconds_one_split"] = table.apply(wall, axis=1)
    first_file = {block["encoder"].iloc[0]: path for block, path in reversed(list(zip(curve_tables, curve_files)))}
    first_curve = {encoder: read_csv_provenance(path) for encoder, path in first_file.items()}
    meta = {
        "curve_files": curve_files,
        "statistics": statistics_file,
        "classifiers": classifier_files,
        "encoder_weights": {
            encoder: f"{m.get('weights_source')} (sha256 {m.get('weights_sha256')})"
            for encoder, m in first_curve.items()
        },
        "protocol": next(iter(first_curve.values())).get("protocol"),
        "layers": "1..L (layer 0 left out)",
        "interval": "95% percentile bootstrap over generators (2000)",
        "bootstrap_seed": seed,
        "wall_seconds_one_split": "split 0: building its database and matching its targets, fixed costs "
        "(T and P embeddings, C_T reference, P's features) included; embedding and "
        "reference-fit seconds from those files' provenance (model loading included, "
        "process start-up not), prorated per image",
    }
    write_csv(matches, matches_out, meta)
    write_csv(table, table_out, meta)
    write_csv(open_curves, open_set_out, meta)
    auc = open_curves.drop_duplicates(["method", "matching", "set_size"])
    with atomic_path(markdown_out) as tmp:
        Path(tmp).write_text(table1_markdown(table, auc) + left_out_markdown(left_out))
    return table


def left_out_markdown(left_out: dict[str, str]) -> str:
    if not left_out:
        return ""
    lines = ["", "**left out of the fingerprint** (every method is compared on the same generators):", ""]
    return "\n".join(lines + [f"- {name}: {reason}" for name, reason in left_out.items()]) + "\n"


def table1_markdown(table: pd.DataFrame, auc: pd.DataFrame) -> str:
    """Table 1 as Markdown: accuracy (95% interval) over all splits, split 0 alone, and seconds, per size."""
    lines = []
    for evaluation, block in table.groupby("evaluation", sort=False):
        sizes = sorted(block["set_size"].unique())
        lines += [
            f"**{evaluation}**",
            "",
            "| method | matching | "
            + " | ".join(f"{s} refs: accuracy [95% CI] | split 0 | time (s)" for s in sizes)
            + " |",
            "|---|---|" + "---|---|---|" * len(sizes),
        ]
        for (method, matching), rows in block.groupby(["method", "matching"], sort=False):
            cells = []
            for size in sizes:
                row = rows[rows["set_size"] == size]
                if row.empty:
                    cells += ["–", "–", "–"]
                    continue
                r = row.iloc[0]
                cells += [
                    f"{r.accuracy:.3f} [{r.ci_low:.2f}, {r.ci_high:.2f}] (n={r.targets})",
                    f"{r.accuracy_split0:.3f}",
                    f"{r.wall_seconds_one_split:.1f}",
                ]
            lines.append(f"| {method} | {matching} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "**open set** (a target's best score with its architecture in the database vs removed): ROC AUC",
        "",
        "| method | matching | reference size | AUC |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r.method} | {r.matching} | {r.set_size} | {r.auc:.3f} |" for r in auc.itertuples()]
    return "\n".join(lines) + "\n"
