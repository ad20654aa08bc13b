"""Copy-finder stages: one generator's copies (per image, layer and transform), the figures and auditor pages
drawn from them, and the planted-copies validation."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from memprint import MemprintError
from memprint.embedding_files import read_embeddings
from memprint.io import read_csv, read_csv_provenance, read_imageset, write_csv
from memprint.pixel_view import view_name, with_pixel_view
from memprint.runtime import resolve_device
from memprint.stages.scores import load_ct_references

LEVEL_NOTE = "a conformal p-value per layer and transform against P's distances in the same C_T cell"
IMAGE_LEVEL = {
    "smallest": "the smallest scaled distance over layers and transforms",
    "evidence": "the layers' mean nearest / k-th nearest z-score plus the aligned pixel correlation's",
}


def find_copies(
    *,
    reference: str,
    train: str,
    test: str,
    generated: str,
    transformed: dict[str, dict[str, str]],
    level: float,
    statistic: dict,
    layers_out: str,
    images_out: str,
    imagesets: dict[str, str] | None = None,
    device: str = "auto",
    pixels: int | None = None,
) -> pd.DataFrame:
    """Every generated image's copies: per layer and transform (``layers_out``) and one flag per image at a
    family-wise false-positive rate of ``level`` (``images_out``). ``transformed``: matching label -> {"test": P's
    embeddings under it, "generated": Q's} (the identity entry names P's none: the reference holds them); a
    training-side label (``T:crop_0.8``) also names {"train": T's embeddings under its edit}, with Q and P as
    they are. ``statistic``: ``copies.statistic`` (the image-level flag's); ``pixels``: also match ``side x side``
    thumbnails (``memprint.pixel_view``); ``imagesets``: the image sets (train, test, generated)."""
    from memprint.copies import check_power, image_table, layer_table, smallest_p
    from memprint.copy_evidence import evidence_views, image_level, statistic_layers
    from memprint.copy_finder import find

    read = functools.cache(read_embeddings)  # the identity entry is ``generated`` itself: read once
    train_emb, gen_emb = read_embeddings(train, lazy=True), read(generated)  # T: one layer at a time
    refs, settings = load_ct_references(reference, train_emb)
    transforms = list(transformed)
    generated_layers = {t: read(files["generated"]).layers for t, files in transformed.items()}
    test_layers = {t: read(files["test"]).layers if files.get("test") else None for t, files in transformed.items()}
    edited = {t: read_embeddings(files["train"], lazy=True) for t, files in transformed.items() if files.get("train")}
    for label, emb in edited.items():
        if list(emb.image_ids) != list(train_emb.image_ids):
            raise MemprintError(f"T under {label} and {train} hold different images; re-embed the edited training set")
    train_layers = {t: emb.layers for t, emb in edited.items()}
    names = list(train_emb.layer_names)
    test_emb = read_embeddings(test, lazy=True)
    check_power(len(test_emb.image_ids), level)
    needs_images = statistic["kind"] == "evidence" or bool(pixels)
    if needs_images and not imagesets:
        raise MemprintError("the evidence statistic and the pixel view need the image sets (train, test, generated)")
    sets = {name: read_imageset(path) for name, path in (imagesets or {}).items()} if needs_images else {}
    for name, emb in (("train", train_emb), ("test", test_emb), ("generated", gen_emb)) if sets else ():
        if list(sets[name].image_ids) != list(emb.image_ids):
            raise MemprintError(f"{imagesets[name]} and its embedding hold different images; re-embed it")
    views = evidence_views(
        statistic, names, train_emb.layers, train_layers, generated_layers, test_layers, test_emb.layers
    )
    if pixels:
        refs, names = with_pixel_view(refs, names, settings, sets, pixels, generated_layers, test_layers, train_layers)
    found = find(refs, names, generated_layers, test_layers, resolve_device(device), train=train_layers)
    images = [sets[name].images if sets else None for name in ("train", "generated", "test")]
    _, evidence = image_level(found, statistic, views, *images)
    meta = {
        "generated_embeddings": generated,
        "transforms": transforms,
        "level": level,
        "calibration_images": len(test_emb.image_ids),
        "smallest_p": smallest_p(len(test_emb.image_ids)),
        "ct_settings": settings,
        "method": f"{LEVEL_NOTE}; per image {IMAGE_LEVEL[statistic['kind']]}, calibrated on P",
        "statistic": {**statistic, "layers": statistic_layers(statistic, list(train_emb.layer_names))}
        if statistic["kind"] == "evidence"
        else statistic,
        **{k: gen_emb.attrs.get(k) for k in ("weights_source", "weights_sha256", "imageset_sha256")},
    }
    meta["pixel_view"] = view_name(pixels) if pixels else None
    args = (gen_emb.image_ids, train_emb.image_ids, names, transforms, level)
    write_csv(layer_table(found, *args), layers_out, meta)
    images = image_table(found, *args, evidence=evidence)
    write_csv(images, images_out, meta)
    return images


def copy_figures(
    *,
    layer_files: dict[str, str],
    image_files: dict[str, str],
    imagesets: dict[str, str],
    train: str,
    encoder: str,
    rates_out: str,
    kinds_out: str,
    png: str,
    pdf: str,
    kinds_png: str,
    kinds_pdf: str,
    pairs_png: str,
    pairs_pdf: str,
    shown: int = 6,
) -> None:
    """Per generator: the image-level copy rate and the per-layer rates (95% Wilson intervals, ``rates_out``),
    the rate by layer x transform (``kinds_out``), and the most-copied pairs over all generators."""
    from memprint.copies import copy_rates, rate_row, transform_rates
    from memprint.plots import plot_image_rows
    from memprint.plots_copies import plot_copy_kinds, plot_copy_rates

    layers = pd.concat([read_csv(p).assign(generator=g) for g, p in layer_files.items()], ignore_index=True)
    images = pd.concat([read_csv(p).assign(generator=g) for g, p in image_files.items()], ignore_index=True)
    meta = read_csv_provenance(next(iter(layer_files.values())))
    level = float(meta["level"])
    per_layer = copy_rates(layers)
    per_image = pd.DataFrame(
        [
            rate_row(block["copy"], generator=g, layer_name="any (image level)")
            for g, block in images.groupby("generator", sort=False)
        ]
    )
    about = {
        "copy_files": layer_files,
        "level": level,
        "interval": "95% Wilson score interval",
        "method": meta["method"],
    }
    write_csv(pd.concat([per_image, per_layer], ignore_index=True), rates_out, about)
    kinds = transform_rates(layers, level)
    write_csv(kinds, kinds_out, about)
    footnote = f"{meta['method']}; level {level:g}; weights: {meta.get('weights_source')}"
    plot_copy_rates(per_layer, level, png, pdf, f"copy rate by layer, encoder {encoder}", footnote)
    plot_copy_kinds(
        kinds, level, kinds_png, kinds_pdf, f"which kind of copying: rate by layer and transform, {encoder}", footnote
    )
    sets, train_set = {g: read_imageset(p) for g, p in imagesets.items()}, read_imageset(train)
    rows = {}  # per generator that copies, its most certain copies: which image, which training image, how
    for generator, block in images[images["copy"]].groupby("generator", sort=False):
        rows[generator] = []
        for pick in block.nsmallest(shown, ["image_p", "closeness"]).itertuples():
            generated, training = _matched_pair(sets[generator], train_set, pick)
            rows[generator] += [
                (generated, f"{pick.sample_id}\n{pick.transform}, {pick.layer_name}"),
                (training, f"{pick.nearest_train_id}\np = {pick.image_p:.2g}"),
            ]
    plot_image_rows(
        rows or {f"no image flagged at level {level:g}": []},
        pairs_png,
        pairs_pdf,
        f"most-copied pairs per generator (generated | training), {encoder}",
        footnote,
    )


def _image(imageset, image_id: str) -> np.ndarray:
    return imageset.images[list(imageset.image_ids).index(image_id)]


def _matched_pair(generated, train_set, pick) -> tuple[np.ndarray, np.ndarray]:
    """A flagged image and its training match as they were compared: each under its side of the matching (a
    mirrored generated image, or a training image cropped or turned for a ``T:`` matching)."""
    from memprint.transforms import apply, sides

    query_edit, training_edit = sides(pick.transform)
    return (
        apply(query_edit, _image(generated, pick.sample_id)[None])[0],
        apply(training_edit, _image(train_set, pick.nearest_train_id)[None])[0],
    )


def auditor_page(
    *,
    images_file: str,
    imageset: str,
    train: str,
    generator: str,
    level: float,
    csv_out: str,
    png: str,
    pdf: str,
    shown: int = 12,
) -> pd.DataFrame:
    """The flagged images of one generator ranked by p-value, each beside the training image it matched, both under
    the matching transform's edits (a training-side one edits the training image), with the layers that flag it:
    a CSV of every flagged image and a page of the first ``shown``."""
    from memprint.plots_copies import plot_auditor_page

    table = read_csv(images_file)
    flagged = table[table["copy"]].sort_values(["image_p", "closeness"])
    meta = read_csv_provenance(images_file)
    write_csv(flagged, csv_out, {**meta, "generator": generator, "images": len(table)})
    generated, train_set = read_imageset(imageset), read_imageset(train)
    pictures = {}
    for pick in flagged.head(shown).itertuples():
        pictures[pick.sample_id] = (_image(generated, pick.sample_id), *_matched_pair(generated, train_set, pick))
    title = (
        f"{generator}: {len(flagged)} of {len(table)} images flagged as copies (family-wise level {level:g}; "
        f"P's smallest p-value {float(meta['smallest_p']):.2g})"
    )
    plot_auditor_page(
        flagged.head(shown), pictures, png, pdf, title, f"{meta['method']}; weights: {meta.get('weights_source')}"
    )
    return flagged


def copies_validation(
    *,
    reference: str,
    train: str,
    test: str,
    fresh: str,
    images: dict[str, str],
    transformed_test: dict[str, str],
    train_edited: dict[str, str] | None = None,
    encoder_spec: dict,
    encoder_weights: str | None,
    settings: dict,
    level: float,
    statistic: dict,
    out: str,
    png: str,
    pdf: str,
    device: str = "auto",
    batch_size: int = 64,
    pixels: int | None = None,
) -> pd.DataFrame:
    """Planted copies edited eight ways among a perfect generator's samples, and that generator's samples alone:
    memprint's AUC and flagged share beside the pixel-L2 and DCR baselines (``memprint.copies_validation``).
    ``images``: the train, test and fresh image sets; ``transformed_test``: matching label -> P's embeddings under
    its query-side edit; ``train_edited``: training-side label -> T's embeddings under its edit."""
    from memprint.copies_validation import embed_layers, validation_table
    from memprint.encoders import load_encoder
    from memprint.pixel_view import pixel_vectors
    from memprint.plots_copies import plot_copies_validation

    train_emb = read_embeddings(train)
    sets = {name: read_imageset(path) for name, path in images.items()}
    if list(sets["train"].image_ids) != list(train_emb.image_ids):
        raise MemprintError(f"{images['train']} and {train} hold different images; re-embed the training set")
    refs, ct_settings = load_ct_references(reference, train_emb)
    dev = resolve_device(device)
    encoder = load_encoder(encoder_spec, encoder_weights, dev)
    test_embedded = {t: (read_embeddings(path).layers if path else None) for t, path in transformed_test.items()}
    edited = {label: read_embeddings(path).layers for label, path in (train_edited or {}).items()}
    names = list(train_emb.layer_names)

    def embed(images):
        layers = embed_layers(encoder, images, batch_size, dev)
        return [*layers, pixel_vectors(images, pixels)] if pixels else layers

    if pixels:
        refs, names = with_pixel_view(refs, names, ct_settings, sets, pixels, {}, test_embedded, edited)
    table = validation_table(
        refs,
        names,
        train_emb.layers,
        test_embedded,
        sets["fresh"].images,
        sets["train"].images,
        sets["test"].images,
        embed,
        list(transformed_test),
        level,
        settings,
        dev,
        edited,
        statistic=statistic,
        test_plain=read_embeddings(test, lazy=True).layers,
    )
    meta = {
        "fresh": fresh,
        "settings": settings,
        "level": level,
        "statistic": statistic,
        "ct_settings": ct_settings,
        "matching": list(transformed_test),
        "pixel_view": view_name(pixels) if pixels else None,
        "weights_source": train_emb.attrs.get("weights_source"),
        "interval": "95% Wilson",
    }
    write_csv(table, out, meta)
    plot_copies_validation(
        table,
        level,
        png,
        pdf,
        f"planted copies ({settings['fraction']:.0%} per kind) among held-out images",
        f"matching under {', '.join(transformed_test)}{'; pixel view ' + meta['pixel_view'] if pixels else ''}; "
        f"weights: {meta['weights_source']}",
    )
    return table
