"""InvMM's validation stages: the score distributions figure, and InvMM, the copy finder and C_T side by side
on one diffusion model whose duplicated training images are known."""

from __future__ import annotations

import json
import logging

from memprint.io import atomic_path, read_csv, read_csv_provenance, read_imageset, write_csv

log = logging.getLogger(__name__)


def figure_invmm_scores(*, table: str, png: str, pdf: str) -> None:
    """InvMM scores of the duplicated and the single images, with the AUC and its interval in the title."""
    from memprint.invmm_validation import invmm_summary, scores_for_plot
    from memprint.plots_invmm import plot_invmm_scores

    scores, meta = read_csv(table), read_csv_provenance(table)
    summary = invmm_summary(scores, meta.get("duplicated_auc"))
    auc = (
        ""
        if summary["auc"] is None
        else f": AUC {summary['auc']:.3f} [{summary['auc_low']:.3f}, {summary['auc_high']:.3f}]"
    )
    plot_invmm_scores(
        scores_for_plot(scores),
        png,
        pdf,
        f"InvMM, {meta.get('generator')}{auc}",
        f"similarity: {meta.get('similarity')}; settings: {meta.get('settings')}; weights: "
        f"{str(meta.get('weights_used'))[:160]}",
    )


def invmm_side_by_side(*, table: str, copies: str, images: str, curve: str, train: str, md: str, csv: str) -> None:
    """One diffusion model seen three ways (InvMM per training image, the copy finder per sample, C_T per layer):
    a Markdown summary and the per-layer table as CSV."""
    from memprint.invmm_validation import (
        copies_of_duplicated,
        image_level_copies,
        invmm_summary,
        side_by_side_markdown,
    )

    scores, meta = read_csv(table), read_csv_provenance(table)
    duplicated = set(json.loads(read_imageset(train).attrs.get("duplicated_ids") or "[]"))
    copies_meta = read_csv_provenance(copies)
    summary = invmm_summary(scores, meta.get("duplicated_auc"))
    per_layer = copies_of_duplicated(read_csv(copies), duplicated)
    image_level = image_level_copies(read_csv(images), duplicated, copies_meta["level"])
    ct_curve = read_csv(curve)
    per_layer = per_layer.merge(
        ct_curve[["layer", "value", "low", "high"]].rename(columns=lambda c: f"ct_{c}" if c != "layer" else c),
        on="layer",
        how="left",
    )
    text = side_by_side_markdown(summary, per_layer, image_level, ct_curve)
    header = (
        f"InvMM, copy finder and C_T on {meta.get('generator')} ({summary['duplicated_images']} duplicated and "
        f"{summary['single_images']} single training images inverted; {meta.get('seconds_per_image', 0):.1f} s "
        f"per image on {meta.get('device')}, {meta.get('precision')}; KL form: mean over pixels).\n\n"
    )
    with atomic_path(md) as tmp:
        tmp.write_text(header + text)
    write_csv(
        per_layer,
        csv,
        {
            "generator": meta.get("generator"),
            "invmm": summary,
            "copy_finder_image_level": image_level,
            "invmm_table": table,
            "copies": copies,
            "ct_curve": curve,
            "weights_used": meta.get("weights_used"),
            "copy_finder_weights": copies_meta.get("weights_source"),
        },
    )
    log.info("InvMM side by side: %s", summary)
