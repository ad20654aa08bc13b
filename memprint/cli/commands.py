"""The ``memprint`` subcommands: each reads its arguments, runs one stage, and returns what to print."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memprint import MemprintError
from memprint.embedding_inputs import load_three
from memprint.runtime import set_precision


def cmd_audit(args) -> None:
    """Write the audit's config, check it, run the workflow and its report, and print the summary."""
    import json
    import subprocess

    import yaml

    from memprint.audit import audit_config, calibration_size, summary, workflow_command
    from memprint.config import validate
    from memprint.copies import check_power
    from memprint.io import atomic_path

    out = Path(args.out).resolve()  # Snakemake runs inside it: every path handed on must not be relative
    config_file = out / "config.yaml"
    if out.exists() and any(out.iterdir()) and not config_file.is_file():
        raise MemprintError(f"--out {out}: a folder holding other files; give a new folder or a previous audit's")
    config = audit_config(args)
    checked = validate(yaml.safe_load(yaml.safe_dump(config)))  # every config error before any job, in one line
    check_power(calibration_size(args), checked["copies"]["level"])
    command = workflow_command(config_file, out, args.cores, args.profile)
    if any((out / ".snakemake" / "locks").glob("*")):
        raise MemprintError(
            f"{out} is locked by a run that did not finish (interrupted, or still running); if no audit is running "
            f"there, clear it with: {' '.join(command)} --unlock"
        )
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(config_file) as tmp:
        Path(tmp).write_text("# written by memprint audit; rerun: the command in summary.md\n" + yaml.safe_dump(config))
    print("+ " + " ".join(command), flush=True)
    for step in (command, [*command, "--report", str(out / "report.html")]):
        try:
            stopped = subprocess.run(step).returncode != 0
        except KeyboardInterrupt:
            raise MemprintError(f"interrupted; rerun the same command to go on where it stopped ({out})") from None
        if stopped:
            raise MemprintError(
                f"the workflow stopped (its log is above and in {out}/logs); fix it and rerun the audit"
            )
    result, text = summary(out, checked)
    text += f"\nReport: {out / 'report.html'}\nRerun or change: {' '.join(command)}\n"
    with atomic_path(out / "summary.md") as tmp:
        Path(tmp).write_text(text)
    with atomic_path(out / "summary.json") as tmp:
        Path(tmp).write_text(json.dumps(result, indent=2, default=str))
    print(text)


def cmd_ct(args) -> dict:
    from memprint.ct import CTSettings, LayerReference

    settings = CTSettings(
        cells=args.cells,
        tau=args.tau,
        min_generated_per_cell=args.min_generated_per_cell,
        pca_dim=args.pca_dim,
        distance=args.distance,
        seed=args.seed,
    )
    names, train, test, generated = load_three(args.train, args.test, args.generated, args.layer)
    layers = []
    for name, t, p, q in zip(names, train, test, generated):
        result = LayerReference.fit(t, p, settings, layer=name).score(q, layer=name)
        layers.append({"layer": name, **result.as_dict()})
    out = (
        {"settings": settings.__dict__, "layers": layers}
        if len(layers) > 1
        else {"settings": settings.__dict__, **layers[0]}
    )
    return out


def cmd_copies(args) -> dict:
    """Per image, layer and transform: nearest training image, distance, p-value; one flag per image at a
    family-wise false-positive rate of ``--level``; copy rates on stdout."""
    from memprint.copies import check_power, copy_rates, image_table, layer_table, rate_row
    from memprint.copy_finder import find
    from memprint.ct import CTSettings, LayerReference
    from memprint.embedding_files import read_embeddings
    from memprint.io import write_csv
    from memprint.transforms import TRAINING_SIDE

    settings = CTSettings(cells=args.cells, min_generated_per_cell=args.min_generated_per_cell, seed=args.seed)
    if not 0 < args.level < 1:
        raise MemprintError(f"--level {args.level}: a false-positive rate must be in (0, 1), e.g. 0.01")
    names, train, test, generated = load_three(args.train, args.test, args.generated, args.layer)
    check_power(len(test[0]), args.level)
    transformed_q, transformed_p = {"identity": generated}, {"identity": None}
    for item in args.transformed or []:
        name, _, files = item.partition("=")
        q_file, _, p_file = files.partition(",")
        if not (name and q_file and p_file):
            raise MemprintError(f"--transformed {item!r}: give NAME=GENERATED.h5,TEST.h5 (both embedded under NAME)")
        _, _, p_layers, q_layers = load_three(args.train, p_file, q_file, args.layer)
        pairs = (
            (q_file, args.generated, "generated", q_layers, generated),
            (p_file, args.test, "test", p_layers, test),
        )
        for given, plain, what, layers, plain_layers in pairs:
            if not _same_images(given, plain, len(layers[0]), len(plain_layers[0])):
                raise MemprintError(
                    f"--transformed {item!r}: {given} does not hold the images of --{what} {plain} (Q first, then P: "
                    "NAME=GENERATED.h5,TEST.h5, each the same images under NAME)"
                )
        transformed_q[name], transformed_p[name] = q_layers, p_layers
    edited_t = {}
    for item in args.training_transformed or []:
        name, _, t_file = item.partition("=")
        if not (name and t_file):
            raise MemprintError(f"--training-transformed {item!r}: give NAME=TRAIN.h5 (T embedded under NAME)")
        label = TRAINING_SIDE + name
        edited_t[label] = load_three(t_file, args.test, args.generated, args.layer)[1]
        transformed_q[label], transformed_p[label] = generated, test
    refs = [LayerReference.fit(t, p, settings, layer=name) for name, t, p in zip(names, train, test)]
    found = find(refs, names, transformed_q, transformed_p, train=edited_t)

    def ids(path, n):
        return (
            read_embeddings(path, [names[0]]).image_ids if path.endswith((".h5", ".hdf5")) else np.arange(n).astype(str)
        )

    labels = (ids(args.generated, len(generated[0])), ids(args.train, len(train[0])), names, list(transformed_q))
    layers = layer_table(found, *labels, args.level)
    images = image_table(found, *labels, args.level)
    meta = {
        "train": args.train,
        "test": args.test,
        "generated": args.generated,
        "ct_settings": settings.__dict__,
        "transforms": list(transformed_q),
        "level": args.level,
    }
    images_out = args.images_out  # main() derives it from --out and checks it like --out
    write_csv(layers, args.out, meta)
    write_csv(images, images_out, meta)
    rates = copy_rates(layers)
    return {
        "written": [args.out, images_out],
        "image_level": rate_row(images["copy"]),
        "copy_rate_by_layer": rates[["layer_name", "copy_rate", "ci_low", "ci_high"]].to_dict("records"),
    }


def _same_images(transformed: str, plain: str, transformed_rows: int, plain_rows: int) -> bool:
    """Whether an input embedded under a transform holds the images of its plain input: as many rows, and the same
    image ids where both are memprint files (.npy rows carry no ids)."""
    from memprint.embedding_files import read_embeddings

    if transformed_rows != plain_rows:
        return False
    if transformed.endswith((".h5", ".hdf5")) and plain.endswith((".h5", ".hdf5")):
        ids = [list(read_embeddings(p, lazy=True).image_ids) for p in (transformed, plain)]
        return ids[0] == ids[1]
    return True


def cmd_embed(args) -> dict:
    from memprint.config import validate_entry
    from memprint.io import read_yaml
    from memprint.stages.encoders import embed

    spec = validate_entry("encoders", read_yaml(args.encoder), args.encoder)
    if args.weights is None and spec.get("weights") not in (None, "pretrained", "random"):
        args.weights = spec["weights"]  # a file or folder, relative to the working folder as in a pipeline config
    set_precision(args.precision)
    if args.transform != "identity":
        from memprint.stages.encoders import embed_transformed
        from memprint.transforms import check_name

        check_name(args.transform)
        embed_transformed(
            spec=spec,
            weights=args.weights,
            imageset=args.images,
            transform=args.transform,
            out=args.out,
            batch_size=args.batch_size,
            device=args.device,
        )
        return {"written": args.out, "transform": args.transform}
    embed(spec, args.weights, args.images, args.out, args.batch_size, args.device, compile_blocks=args.compile)
    return {"written": args.out}


def cmd_data(args) -> dict:
    from memprint.config import load_config
    from memprint.stages.data import make_data

    data = load_config(args.config)["data"]
    if data["heldout"] and not args.heldout:
        raise MemprintError(f"{args.config}: data.heldout is set; give --heldout FILE for the held-out images")
    make_data(data, args.train, args.test, args.heldout if data["heldout"] else None)
    return {"written": [args.train, args.test] + ([args.heldout] if data["heldout"] else [])}


def cmd_sample(args) -> dict:
    from memprint.config import load_config
    from memprint.generators import generator
    from memprint.stages.generators import make_generator_samples

    generators = load_config(args.config)["generators"]
    if args.generator not in generators:
        raise MemprintError(f"generator {args.generator!r} is not in {args.config}; it has {sorted(generators)}")
    kind = generator(args.generator, generators[args.generator])
    if kind.sharded or "segmenter" in kind.needs:
        raise MemprintError(
            f"generator {args.generator} ({kind.kind}) needs the pipeline (a trained model or the "
            "segmenter); run it with snakemake"
        )
    source = args.source or (args.train if kind.spec.get("source", "train") == "train" else None)
    if "source" in kind.needs and source is None:
        raise MemprintError(f"generator {args.generator} alters its {kind.spec['source']} set; give it with --source")
    make_generator_samples(args.generator, kind.spec, args.out, args.train, source if "source" in kind.needs else None)
    return {"written": args.out}


def cmd_invmm(args) -> dict:
    import tempfile

    from memprint.stages.invmm import invmm_shard, invmm_table

    set_precision(args.precision)

    if not Path(args.model).exists():
        raise MemprintError(f"--model {args.model}: not found; give a UNet2DModel folder or a zoo DDPM checkpoint")
    spec = (
        {"kind": "diffusion", "model": args.model}
        if Path(args.model).is_dir()
        else {"kind": "zoo", "scheduler": "ddim"}
    )
    similarity = {"kind": "pixel_correlation"}
    if args.similarity.startswith("sscd:"):
        similarity = {"kind": "sscd", "file": args.similarity.removeprefix("sscd:")}
    elif args.similarity != "pixel_correlation":
        raise MemprintError(f"--similarity {args.similarity!r}: use pixel_correlation or sscd:FILE")
    invmm = {
        "limit": args.limit,
        "shards": 1,
        "similarity": similarity,
        "settings": {"max_steps": args.max_steps, "ddim_steps": args.ddim_steps, "seed": args.seed},
    }
    with tempfile.TemporaryDirectory() as scratch:
        shard = str(Path(scratch) / "shard0.csv")
        invmm_shard(
            Path(args.model).stem,
            spec,
            args.model,
            args.images,
            invmm,
            0,
            shard,
            device=args.device,
            batch_size=args.batch_size,
        )
        table = invmm_table([shard], args.out)
    return {"written": args.out, "images": len(table), "reproduced": int(table["reproduced"].sum())}


def cmd_published(args) -> dict:
    import tempfile

    from memprint.generators import generator
    from memprint.io import write_imageset
    from memprint.published import download, import_models

    spec = {"kind": "published", "manifest": args.manifest, "folder": args.folder}
    kind = generator(Path(args.out).stem, {**spec, **({"models": args.models} if args.models else {})})
    kind.check({})
    with tempfile.TemporaryDirectory() as scratch:
        files = kind.grid_files()
        if not args.folder:
            files = [str(Path(scratch) / Path(f).name) for f in files]
            for grid, path in zip(kind.grids, files):
                download(grid, path)
        samples = import_models(kind.grids, files, kind.name)
    write_imageset(args.out, samples)
    return {"written": args.out, "images": len(samples), "models": [g.name for g in kind.grids]}


def cmd_check(args) -> dict:
    from memprint.config import load_config
    from memprint.config_checks import fingerprint_plan

    config = load_config(args.config)
    _, left_out = fingerprint_plan(config)
    return {
        "config": args.config,
        "valid": True,
        "generators": len(config["generators"]),
        "encoders": list(config["encoders"]),
        "fingerprint_left_out": left_out,
    }
