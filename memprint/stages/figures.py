"""Figure stages, one per figure: C_T-layer curves, curves under each C_T setting, curve similarity, a sample
grid, and the fingerprint confusion matrices and open-set ROC. Every figure's footnote names its weights."""

from __future__ import annotations

import numpy as np
import pandas as pd

from memprint import MemprintError
from memprint.io import read_csv, read_csv_provenance, read_imageset, write_csv


def _curves_with_provenance(curve_files: dict[str, str]) -> tuple[pd.DataFrame, str]:
    """Generator -> curve file, as one table, and the footnote its provenance gives."""
    frames = [read_csv(path).assign(generator=name) for name, path in curve_files.items()]
    meta = read_csv_provenance(next(iter(curve_files.values())))
    footnote = (f"bands: {meta['interval']}; " if meta.get("interval") else "") + (
        f"weights: {meta.get('weights_source')} (sha256 {str(meta.get('weights_sha256'))[:12]}); "
        f"score {meta.get('score')} ({meta.get('kind')}) {_settings(meta)}"
    )
    return pd.concat(frames, ignore_index=True), footnote


def figure_ct_curves(curve_files: dict[str, str], encoder: str, png: str, pdf: str) -> None:
    from memprint.plots import plot_ct_curves

    curves, footnote = _curves_with_provenance(curve_files)
    plot_ct_curves(curves, png, pdf, f"C_T-layer curves, encoder {encoder}", footnote)


def figure_curve_similarity(
    curve_files: dict[str, str], encoder: str, architectures: dict[str, str], png: str, pdf: str, statistic_out: str
) -> None:
    """Paper figure 6b: cosine similarity between every generator's (checkpoint's) curve, with the mean intra-
    minus inter-architecture similarity and its 95% interval (also written to ``statistic_out``)."""
    from memprint.fingerprint import intra_minus_inter, similarity_matrix
    from memprint.plots import plot_similarity_heatmap

    curves, footnote = _curves_with_provenance(curve_files)
    similarity = similarity_matrix(curves)
    seed = 0
    try:
        stat = intra_minus_inter(similarity, architectures, seed=seed)
        headline = (
            f"intra - inter architecture: {stat['intra_minus_inter']:.3f} [{stat['ci_low']:.3f}, {stat['ci_high']:.3f}]"
        )
    except MemprintError as err:
        stat, headline = (
            {"intra_minus_inter": None, "reason": str(err)},
            "intra - inter: n/a (one generator per architecture)",
        )
    write_csv(
        pd.DataFrame([{"encoder": encoder, **stat}]),
        statistic_out,
        {
            "curve_files": curve_files,
            "interval": "95% percentile bootstrap over generators (2000)",
            "bootstrap_seed": seed,
        },
    )
    plot_similarity_heatmap(
        similarity,
        png,
        pdf,
        f"C_T-layer curve cosine similarity (layers 1..L), {encoder}\n{headline}",
        footnote,
        architectures,
    )


def _fingerprint_footnote(path: str) -> str:
    meta = read_csv_provenance(path)
    return f"data: {path}; encoder weights: {meta.get('encoder_weights')}; protocol: {meta.get('protocol')}"


def figure_fingerprint_confusion(matches_file: str, png: str, pdf: str) -> None:
    """Confusion matrices of closed-set matching at the largest reference size, one panel per method."""
    from memprint.plots import plot_confusion

    matches = read_csv(matches_file)
    closed = matches[matches["evaluation"] == "closed set"]
    closed = closed[closed["set_size"] == closed["set_size"].max()]
    closed = closed[closed["matching"].isin(["combined", "majority vote"])]
    plot_confusion(
        closed,
        png,
        pdf,
        f"fingerprint confusion, {closed['set_size'].max()} reference images, all splits",
        _fingerprint_footnote(matches_file),
    )


def figure_fingerprint_open_set(open_set_file: str, png: str, pdf: str) -> None:
    """ROC of open-set rejection at the largest reference size."""
    from memprint.plots import plot_open_set

    curves = read_csv(open_set_file)
    curves = curves[curves["set_size"] == curves["set_size"].max()]
    plot_open_set(
        curves,
        png,
        pdf,
        f"open-set rejection, {curves['set_size'].max()} reference images",
        f"{_fingerprint_footnote(open_set_file)}; known: the target's architecture in the database; unknown: removed",
    )


def figure_scores(curve_files: dict[str, dict[str, str]], encoder: str, png: str, pdf: str) -> None:
    """Paper figure 5 analog: every generator's curve, one panel per score (each C_T setting and the other
    scores), each panel saying what its values mean."""
    from memprint.plots import plot_ct_panels

    panels, footnote = {}, None
    for name, files in curve_files.items():
        curves, note = _curves_with_provenance(files)
        footnote = footnote or note.split("; score ")[0]  # the weights (shared); each panel names its score
        meta = read_csv_provenance(next(iter(files.values())))
        panels[f"{name} ({meta.get('kind')}) {_settings(meta)}"] = (curves, meta.get("meaning", ""))
    plot_ct_panels(panels, png, pdf, f"score-layer curves under every score, encoder {encoder}", footnote)


def _settings(meta: dict) -> str:
    """A score's settings in a few words (C_T: cells, PCA and distance)."""
    settings = meta.get("settings") or {}
    if "cells" not in settings:
        return ""
    return f"{settings['cells']} cells, PCA {settings.get('pca_dim')}, {settings.get('distance')}"


def figure_sample_grid(imagesets: dict[str, str], png: str, pdf: str, shown: int = 8) -> None:
    """Paper figure 4 analog: ``shown`` images of every generator, one row each, evenly spaced through the set
    (sets made from class-sorted files would otherwise show one class)."""
    from memprint.plots import plot_image_rows

    rows = {}
    for name, path in imagesets.items():
        images = read_imageset(path).images
        picked = np.linspace(0, len(images) - 1, min(shown, len(images))).round().astype(int)  # distinct: spacing >= 1
        rows[name] = [(images[i], "") for i in picked]
    plot_image_rows(rows, png, pdf, "samples of every generator", f"image sets: {', '.join(imagesets.values())}")
