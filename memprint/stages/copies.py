"""Copy-finder stages: copy rates by layer with intervals and the most-copied pairs, and the planted-copies
validation (exact, rotated and recoloured training images among a perfect generator's samples)."""

from __future__ import annotations

import pandas as pd

from memprint import MemprintError
from memprint.embedding_files import read_embeddings
from memprint.encoders import load_encoder
from memprint.io import read_csv, read_csv_provenance, read_imageset, write_csv
from memprint.runtime import resolve_device
from memprint.stages.scores import load_ct_references


def figure_copies(
    copy_files: dict[str, str],
    imagesets: dict[str, str],
    train_path: str,
    encoder: str,
    rates_out: str,
    png: str,
    pdf: str,
    pairs_png: str,
    pairs_pdf: str,
    shown: int = 6,
) -> None:
    """Copy rate by layer (95% Wilson intervals) of every generator, written to ``rates_out`` and drawn, and the
    ``shown`` most-copied pairs at block 1 and at the last layer."""
    from memprint.copies import copy_rates
    from memprint.plots import plot_copy_rates, plot_image_rows

    table = pd.concat([read_csv(path).assign(generator=g) for g, path in copy_files.items()], ignore_index=True)
    meta = read_csv_provenance(next(iter(copy_files.values())))
    threshold = float(meta["copy_threshold"])
    rates = copy_rates(table)
    write_csv(
        rates,
        rates_out,
        {"copy_files": copy_files, "copy_threshold": threshold, "interval": "95% Wilson score interval"},
    )
    footnote = (
        f"copy: distance to the nearest training image below the {threshold:.0%} percentile of the test "
        f"set's in its C_T cell (C_T settings {meta.get('settings')}); weights: {meta.get('weights_source')}"
    )
    plot_copy_rates(rates, threshold, png, pdf, f"copy rate by layer, encoder {encoder}", footnote)

    train = read_imageset(train_path)
    train_row = {image_id: i for i, image_id in enumerate(train.image_ids)}
    sets = {g: read_imageset(path) for g, path in imagesets.items()}
    sample_row = {g: {image_id: i for i, image_id in enumerate(s.image_ids)} for g, s in sets.items()}
    layers = sorted(table["layer"].unique())
    rows = {}
    for layer in dict.fromkeys((1 if 1 in layers else layers[0], layers[-1])):
        pairs = []
        for pick in table[table["layer"] == layer].nsmallest(shown, ["score", "distance"]).itertuples():
            pairs += [
                (sets[pick.generator].images[sample_row[pick.generator][pick.sample_id]], pick.generator),
                (train.images[train_row[pick.nearest_train_id]], f"T, d={pick.distance:.3g}"),
            ]
        rows[f"layer {layer}"] = pairs
    plot_image_rows(
        rows, pairs_png, pairs_pdf, f"most-copied pairs (generated | nearest training image), {encoder}", footnote
    )


def copies_validation(
    reference: str,
    train_emb: str,
    fresh_emb: str,
    train_images: str,
    encoder_spec: dict,
    encoder_weights: str | None,
    settings: dict,
    threshold: float,
    replicates: int,
    out: str,
    png: str,
    pdf: str,
    device: str = "auto",
    batch_size: int = 64,
) -> pd.DataFrame:
    """Planted exact, rotated and recoloured copies among a perfect generator's samples (``fresh_emb``):
    the copy finder's AUC and copy rate, and C_T of the mix, by layer (``memprint.copies_validation``)."""
    from memprint.copies_validation import planted_copies_table
    from memprint.plots import plot_copies_validation

    train, fresh, images = read_embeddings(train_emb), read_embeddings(fresh_emb), read_imageset(train_images)
    if list(images.image_ids) != list(train.image_ids):
        raise MemprintError(f"{train_images} and {train_emb} hold different images; re-embed the training set")
    refs, ct_settings = load_ct_references(reference, train)
    dev = resolve_device(device)
    encoder = load_encoder(encoder_spec, encoder_weights, dev)
    table = planted_copies_table(
        refs,
        train.layer_names,
        train.layers,
        fresh.layers,
        images.images,
        encoder,
        settings,
        threshold,
        replicates,
        dev,
        batch_size,
    )
    meta = {
        "fresh_embeddings": fresh_emb,
        "settings": settings,
        "copy_threshold": threshold,
        "ct_settings": ct_settings,
        "weights_source": train.attrs.get("weights_source"),
        "intervals": f"copy rate: 95% Wilson; C_T: 95% bootstrap ({replicates} replicates)",
    }
    write_csv(table, out, meta)
    plot_copies_validation(
        table,
        threshold,
        png,
        pdf,
        f"{settings['fraction']:.0%} planted copies among held-out images "
        f"(rotated {settings['rotate']} deg, hue {settings['hue']} deg)",
        f"weights: {meta['weights_source']}; C_T settings {ct_settings}",
    )
    return table
