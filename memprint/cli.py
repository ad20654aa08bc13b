"""``memprint``: the pipeline's stages for ad-hoc use, outside Snakemake.

memprint ct --train T.npy --test P.npy --generated Q.npy --cells 5      # one JSON object
memprint ct --train T.h5 --test P.h5 --generated Q.h5 --layer blocks.11
memprint embed --encoder encoder.yaml --weights w.pt --images set.h5 --out emb.h5
memprint data --config config.yaml --train train.h5 --test test.h5
memprint sample --config config.yaml --generator kde_0.1 --train train.h5 --out kde.h5
memprint invmm --model unet_folder_or_zoo_ddpm.pt --images train.h5 --out scores.csv --limit 100
memprint copies --train T.h5 --test P.h5 --generated Q.h5 --out copies.csv   # per-sample copies per layer
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from memprint import MemprintError, __version__
from memprint.embedding_inputs import load_three


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
    """Per sample and layer: nearest training image, distance, copy score and flag; copy rates on stdout."""
    from memprint.copies import copies_frame, copy_rates
    from memprint.ct import CTSettings, LayerReference
    from memprint.io import read_embeddings, write_csv

    settings = CTSettings(cells=args.cells, min_generated_per_cell=args.min_generated_per_cell, seed=args.seed)
    if not 0 < args.threshold < 1:
        raise MemprintError(f"--threshold {args.threshold}: a copy score percentile must be in (0, 1), e.g. 0.01")
    names, train, test, generated = load_three(args.train, args.test, args.generated, args.layer)
    ids = {
        p: (read_embeddings(p, [names[0]]).image_ids if p.endswith((".h5", ".hdf5")) else None)
        for p in (args.train, args.generated)
    }
    frames = []
    for index, (name, t, p, q) in enumerate(zip(names, train, test, generated)):
        ref = LayerReference.fit(t, p, settings, layer=name)
        train_ids = ids[args.train] if ids[args.train] is not None else np.arange(len(t)).astype(str)
        sample_ids = ids[args.generated] if ids[args.generated] is not None else np.arange(len(q)).astype(str)
        frames.append(
            copies_frame(
                ref, ref.generated_neighbours(q, layer=name), train_ids, sample_ids, index, name, args.threshold
            )
        )
    import pandas as pd

    table = pd.concat(frames, ignore_index=True)
    write_csv(
        table,
        args.out,
        {
            "train": args.train,
            "test": args.test,
            "generated": args.generated,
            "ct_settings": settings.__dict__,
            "copy_threshold": args.threshold,
        },
    )
    rates = copy_rates(table)
    return {
        "written": args.out,
        "copy_rate": rates[["layer_name", "copy_rate", "ci_low", "ci_high"]].to_dict("records"),
    }


def cmd_embed(args) -> dict:
    from memprint.config import read_yaml, validate_entry
    from memprint.stages.encoders import embed

    spec = validate_entry("encoders", read_yaml(args.encoder), args.encoder)
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


def build_parser() -> argparse.ArgumentParser:
    from memprint.config import section_defaults

    ct_default, runtime, invmm = (section_defaults(s) for s in ("ct", "runtime", "invmm.settings"))
    parser = argparse.ArgumentParser(
        prog="memprint", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)

    ct = sub.add_parser("ct", help="C_T score of generated samples (prints JSON)")
    ct.add_argument("--train", required=True, help="T: .npy (N,D) or (L,N,D), or an embedding .h5")
    ct.add_argument("--test", required=True, help="P, same format")
    ct.add_argument("--generated", required=True, help="Q, same format")
    ct.add_argument("--cells", type=int, default=ct_default["cells"], help="KMeans cells fit on T")
    ct.add_argument("--tau", type=float, default=None, help="keep cells whose share of Q exceeds tau (default 20/|Q|)")
    ct.add_argument(
        "--min-generated-per-cell",
        type=int,
        default=ct_default["min_generated_per_cell"],
        help="tau = this / |Q| when --tau is not given",
    )
    ct.add_argument("--pca-dim", type=int, default=None, help="PCA fit on T per layer (Bai et al. code: 64)")
    ct.add_argument("--distance", choices=["euclidean", "abs_cosine"], default=ct_default["distance"])
    ct.add_argument("--seed", type=int, default=ct_default["seed"])
    ct.add_argument("--layer", default=None, help="one layer: a name in the .h5 files, or an index into (L,N,D)")
    ct.set_defaults(func=cmd_ct)

    emb = sub.add_parser("embed", help="every layer's embedding of an image-set file")
    emb.add_argument("--encoder", required=True, help="YAML file with one encoder entry (as in config.yaml)")
    emb.add_argument("--weights", default=None, help="state-dict file (omit only with weights: random)")
    emb.add_argument("--images", required=True, help="image-set .h5")
    emb.add_argument("--out", required=True)
    emb.add_argument("--batch-size", type=int, default=runtime["batch_size"])
    emb.add_argument("--device", default=runtime["device"])
    emb.add_argument("--compile", action="store_true", help="torch.compile the encoder's blocks first")
    emb.set_defaults(func=cmd_embed, outputs=["out"])

    data = sub.add_parser("data", help="write the training and test image sets of a config")
    data.add_argument("--config", required=True)
    data.add_argument("--train", required=True)
    data.add_argument("--test", required=True)
    data.add_argument("--heldout", default=None, help="held-out images (when the config sets data.heldout)")
    data.set_defaults(func=cmd_data, outputs=["train", "test", "heldout"])

    sample = sub.add_parser("sample", help="fit one configured generator on a training set and sample it")
    sample.add_argument("--config", required=True)
    sample.add_argument("--generator", required=True)
    sample.add_argument("--train", required=True)
    sample.add_argument("--source", default=None, help="the image set a pathological kind alters (default: --train)")
    sample.add_argument("--out", required=True)
    sample.set_defaults(func=cmd_sample, outputs=["out"])

    inv = sub.add_parser("invmm", help="InvMM memorization score of each image under a diffusion model")
    inv.add_argument("--model", required=True, help="a UNet2DModel folder, or a zoo DDPM checkpoint (.pt)")
    inv.add_argument("--images", required=True, help="image-set .h5 (e.g. the training set)")
    inv.add_argument("--out", required=True, help="CSV of scores")
    inv.add_argument("--limit", type=int, default=None, help="score a class-stratified subset of N images (seeded)")
    inv.add_argument("--similarity", default="pixel_correlation", help="pixel_correlation or sscd:FILE")
    inv.add_argument("--max-steps", type=int, default=invmm["max_steps"])
    inv.add_argument("--ddim-steps", type=int, default=invmm["ddim_steps"])
    inv.add_argument("--seed", type=int, default=invmm["seed"])
    inv.add_argument("--batch-size", type=int, default=runtime["invmm_batch_size"])
    inv.add_argument("--device", default=runtime["device"])
    inv.set_defaults(func=cmd_invmm, outputs=["out"])

    cop = sub.add_parser("copies", help="which generated samples copy which training images, per layer (CSV)")
    cop.add_argument("--train", required=True, help="T: .npy (N,D) or (L,N,D), or an embedding .h5")
    cop.add_argument("--test", required=True, help="P, same format")
    cop.add_argument("--generated", required=True, help="Q, same format")
    cop.add_argument("--out", required=True, help="CSV: sample, layer, nearest training id, distance, score, copy")
    cop.add_argument(
        "--threshold",
        type=float,
        default=section_defaults("copies")["threshold"],
        help="copy: score below this percentile of P's",
    )
    cop.add_argument("--cells", type=int, default=ct_default["cells"])
    cop.add_argument("--min-generated-per-cell", type=int, default=ct_default["min_generated_per_cell"])
    cop.add_argument("--seed", type=int, default=ct_default["seed"])
    cop.add_argument("--layer", default=None, help="one layer: a name in the .h5 files, or an index into (L,N,D)")
    cop.set_defaults(func=cmd_copies, outputs=["out"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        for option in getattr(args, "outputs", []):  # before any work: where the results go must exist
            path = getattr(args, option)
            if path and not Path(path).resolve().parent.is_dir():
                raise MemprintError(f"--{option} {path}: folder {Path(path).parent} does not exist; create it first")
        result = args.func(args)
    except MemprintError as err:
        print(f"memprint: error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(_json_safe(result), indent=2, default=str))
    return 0


def _json_safe(value):
    """NaN (an undefined C_T) becomes null, so the output stays valid JSON."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
