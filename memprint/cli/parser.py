"""``memprint``: the pipeline's stages for ad-hoc use, outside Snakemake.

memprint ct --train T.npy --test P.npy --generated Q.npy --cells 5      # one JSON object
memprint ct --train T.h5 --test P.h5 --generated Q.h5 --layer blocks.11
memprint embed --encoder encoder.yaml --weights w.pt --images set.h5 --out emb.h5
memprint data --config config.yaml --train train.h5 --test test.h5
memprint sample --config config.yaml --generator kde_0.1 --train train.h5 --out kde.h5
memprint invmm --model unet_folder_or_zoo_ddpm.pt --images train.h5 --out scores.csv --limit 100
memprint copies --train T.h5 --test P.h5 --generated Q.h5 --out copies.csv   # per-sample copies per layer
memprint published --manifest configs/published/cifar10.yaml --models ddpm_floros --out ddpm.h5
memprint check --config configs/cifar10_cpu.yaml   # every check Snakemake runs first, YAML errors with their line

Trust: a config can run code. A generator's class_path is imported (its module runs) in its sampling job,
plugins: modules while the workflow is planned, and TorchScript generators, the FID network and SSCD files are
programs. Use configs and model files only from people you trust; checkpoints are read with weights_only=True.
"""

from __future__ import annotations

import argparse

from memprint import MemprintError, __version__
from memprint.cli import commands
from memprint.runtime import PRECISIONS


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line, like every other error (``memprint: error: ...``), not usage text."""

    def error(self, message):
        raise MemprintError(f"{self.prog}: {message}; see {self.prog} --help")


def positive(text: str) -> int:
    """An integer of at least 1 (argparse turns the ValueError into one usage line)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def seed(text: str) -> int:
    """A random seed, 0 .. 2^32 - 1."""
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{value} is not a seed in 0 .. 4294967295")
    return value


def build_parser() -> argparse.ArgumentParser:
    from memprint.schema import section_defaults

    ct_default, runtime, invmm = (section_defaults(s) for s in ("ct", "runtime", "invmm.settings"))
    parser = OneLineParser(prog="memprint", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)

    ct = sub.add_parser("ct", help="C_T score of generated samples (prints JSON)")
    ct.add_argument("--train", required=True, help="T: .npy (N,D) or (L,N,D), or an embedding .h5")
    ct.add_argument("--test", required=True, help="P, same format")
    ct.add_argument("--generated", required=True, help="Q, same format")
    ct.add_argument("--cells", type=positive, default=ct_default["cells"], help="KMeans cells fit on T")
    ct.add_argument("--tau", type=float, default=None, help="keep cells whose share of Q exceeds tau (default 20/|Q|)")
    ct.add_argument(
        "--min-generated-per-cell",
        type=positive,
        default=ct_default["min_generated_per_cell"],
        help="tau = this / |Q| when --tau is not given",
    )
    ct.add_argument("--pca-dim", type=positive, default=None, help="PCA fit on T per layer (Bai et al. code: 64)")
    ct.add_argument(
        "--distance",
        choices=["euclidean", "abs_cosine"],
        default=ct_default["distance"],
        help="distance between embeddings: euclidean (Meehan et al.) or 1 - |cos| (the Bai et al. code)",
    )
    ct.add_argument("--seed", type=seed, default=ct_default["seed"], help="KMeans seed")
    ct.add_argument("--layer", default=None, help="one layer: a name in the .h5 files, or an index into (L,N,D)")
    ct.set_defaults(func=commands.cmd_ct)

    emb = sub.add_parser("embed", help="every layer's embedding of an image-set file")
    emb.add_argument("--encoder", required=True, help="YAML file with one encoder entry (as in config.yaml)")
    emb.add_argument(
        "--weights",
        default=None,
        help="state-dict file or Hugging Face model folder (default: the encoder YAML's weights:, when a path)",
    )
    emb.add_argument("--images", required=True, help="image-set .h5")
    emb.add_argument("--out", required=True, help="embedding .h5 (every layer, float16, with provenance)")
    emb.add_argument(
        "--batch-size",
        type=positive,
        default=runtime["batch_size"],
        help="images per forward pass (changes speed, not results)",
    )
    emb.add_argument(
        "--device", default=runtime["device"], help="auto, cpu, cuda or cuda:N (changes speed, not results)"
    )
    emb.add_argument("--compile", action="store_true", help="torch.compile the encoder's blocks first")
    emb.add_argument(
        "--transform", default="identity", help="embed the images under a transform (hflip, rotate_15 ...) for copies"
    )
    emb.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=runtime["precision"],
        help="auto: bf16 where the device has bf16 units (CUDA; CPUs with AMX or AVX-512 BF16), else float32",
    )
    emb.set_defaults(func=commands.cmd_embed, outputs=["out"])

    data = sub.add_parser("data", help="write the training and test image sets of a config")
    data.add_argument(
        "--config", required=True, help="pipeline config whose data: section says where T and P come from"
    )
    data.add_argument("--train", required=True, help="image-set .h5 for T")
    data.add_argument("--test", required=True, help="image-set .h5 for P")
    data.add_argument("--heldout", default=None, help="held-out images (when the config sets data.heldout)")
    data.set_defaults(func=commands.cmd_data, outputs=["train", "test", "heldout"])

    sample = sub.add_parser("sample", help="fit one configured generator on a training set and sample it")
    sample.add_argument("--config", required=True, help="pipeline config holding the generator")
    sample.add_argument("--generator", required=True, help="the generator's name in the config's generators:")
    sample.add_argument("--train", required=True, help="image-set .h5 of T the generator is fitted on")
    sample.add_argument("--source", default=None, help="the image set a pathological kind alters (default: --train)")
    sample.add_argument("--out", required=True, help="image-set .h5 of the samples")
    sample.set_defaults(func=commands.cmd_sample, outputs=["out"])

    inv = sub.add_parser("invmm", help="InvMM memorization score of each image under a diffusion model")
    inv.add_argument("--model", required=True, help="a UNet2DModel folder, or a zoo DDPM checkpoint (.pt)")
    inv.add_argument("--images", required=True, help="image-set .h5 (e.g. the training set)")
    inv.add_argument("--out", required=True, help="CSV of scores")
    inv.add_argument(
        "--limit", type=positive, default=None, help="score a class-stratified subset of N images (seeded)"
    )
    inv.add_argument("--similarity", default="pixel_correlation", help="pixel_correlation or sscd:FILE")
    inv.add_argument(
        "--max-steps",
        type=positive,
        default=invmm["max_steps"],
        help="most Adam steps per image before it is given up (score inf)",
    )
    inv.add_argument(
        "--ddim-steps",
        type=positive,
        default=invmm["ddim_steps"],
        help="DDIM steps of each check that the inverted noise reproduces the image",
    )
    inv.add_argument(
        "--seed",
        type=seed,
        default=invmm["seed"],
        help="seed of every image's noise (each image draws from its own seed)",
    )
    inv.add_argument(
        "--batch-size",
        type=positive,
        default=runtime["invmm_batch_size"],
        help="images inverted at once (changes speed, not scores)",
    )
    inv.add_argument(
        "--device", default=runtime["device"], help="auto, cpu, cuda or cuda:N (changes speed, not scores)"
    )
    inv.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=runtime["precision"],
        help="auto: bf16 where the device has bf16 units (CUDA; CPUs with AMX or AVX-512 BF16), else float32",
    )
    inv.set_defaults(func=commands.cmd_invmm, outputs=["out"])

    cop = sub.add_parser("copies", help="which generated images copy which training images (CSV), with a stated rate")
    cop.add_argument("--train", required=True, help="T: .npy (N,D) or (L,N,D), or an embedding .h5")
    cop.add_argument("--test", required=True, help="P, same format (the calibration)")
    cop.add_argument("--generated", required=True, help="Q, same format")
    cop.add_argument("--out", required=True, help="CSV per image, layer and transform: nearest training id, p-value")
    cop.add_argument("--images-out", default=None, help="CSV with one flag per image (default: OUT with .images.csv)")
    cop.add_argument(
        "--transformed",
        action="append",
        metavar="NAME=Q.h5,P.h5",
        help="Q and P embedded under a transform too (memprint embed --transform NAME); repeat for more",
    )
    cop.add_argument(
        "--training-transformed",
        action="append",
        metavar="NAME=T.h5",
        help="T embedded under an edit that loses pixels (crop_0.8, rotate_15): Q and P as they are are matched "
        "against it too; repeat for more",
    )
    cop.add_argument(
        "--level",
        type=float,
        default=section_defaults("copies")["level"],
        help="family-wise false-positive rate of the image flag (and of each per-layer flag)",
    )
    cop.add_argument("--cells", type=positive, default=ct_default["cells"], help="C_T cells fit on T (KMeans)")
    cop.add_argument(
        "--min-generated-per-cell",
        type=positive,
        default=ct_default["min_generated_per_cell"],
        help="C_T's per-cell threshold (the copy finder's cells are C_T's)",
    )
    cop.add_argument("--seed", type=seed, default=ct_default["seed"], help="KMeans seed")
    cop.add_argument("--layer", default=None, help="one layer: a name in the .h5 files, or an index into (L,N,D)")
    cop.set_defaults(func=commands.cmd_copies, outputs=["out", "images_out"])

    aud = sub.add_parser(
        "audit",
        help="folders of images in, a finished run out: C_T per layer, copies, HTML report and a summary",
        description="Writes OUT/config.yaml (T and P from folders, each generated set as kind samples, one encoder, "
        "C_T and the copy finder), runs the memprint workflow in OUT (rerunning only what changed), builds "
        "OUT/report.html and prints a summary (also OUT/summary.md, OUT/summary.json). Example: memprint audit "
        "--train train/ --test test/ --generated ddpm=samples/ --encoder facebook/dinov2-small --input-size 112 "
        "--out audit/",
    )
    aud.add_argument("--train", required=True, help="folder of training images T (recursive; sub-folders = classes)")
    calibration = aud.add_mutually_exclusive_group(required=True)
    calibration.add_argument("--test", help="folder of test images P, never trained on (the calibration)")
    calibration.add_argument(
        "--test-share",
        type=float,
        help="no test folder: hold this share of the training folder out as P (seeded, class-stratified), e.g. 0.2",
    )
    aud.add_argument(
        "--generated",
        required=True,
        action="append",
        metavar="[NAME=]PATH",
        help="generated images: a folder, an .npz (x or arr_0, e.g. ADM's) or an image-set .h5; repeat for more",
    )
    aud.add_argument(
        "--encoder",
        required=True,
        help="Hugging Face hub id (facebook/dinov2-small), local model folder, or a YAML file with one encoder entry",
    )
    aud.add_argument("--input-size", type=positive, default=None, help="resize images to this size for the encoder")
    aud.add_argument("--out", required=True, help="folder of the run (created; a previous audit's folder is reused)")
    aud.add_argument("--cores", type=positive, default=2, help="cores Snakemake may use")
    aud.add_argument("--profile", default=None, help="a Snakemake profile, e.g. profiles/slurm for a SLURM cluster")
    aud.add_argument("--cells", type=positive, default=ct_default["cells"], help="C_T cells fit on T (KMeans)")
    aud.add_argument(
        "--level",
        type=float,
        default=section_defaults("copies")["level"],
        help="family-wise false-positive rate of the copy flag per image",
    )
    aud.add_argument(
        "--transforms",
        default=",".join(section_defaults("copies")["transforms"]),
        help="transforms the copy finder matches under, comma-separated (identity,hflip,rotate_15,crop_0.8,...)",
    )
    aud.add_argument("--seed", type=seed, default=0, help="seed of every random choice (KMeans, bootstrap)")
    aud.set_defaults(func=commands.cmd_audit)

    check = sub.add_parser("check", help="check a pipeline config as Snakemake would, before any job (one line)")
    check.add_argument("--config", required=True, help="the YAML config file")
    check.set_defaults(func=commands.cmd_check)

    pub = sub.add_parser("published", help="published models' samples (a manifest's sample grids) as an image set")
    pub.add_argument("--manifest", required=True, help="YAML manifest, e.g. configs/published/cifar10.yaml")
    pub.add_argument("--models", nargs="+", default=None, help="the manifest's models to pool (default all)")
    pub.add_argument(
        "--folder", default=None, help="offline copy as FOLDER/<owner>/<repository>/<path>; default: download"
    )
    pub.add_argument("--out", required=True, help="image-set .h5 (use it as a generator: kind samples, path OUT)")
    pub.set_defaults(func=commands.cmd_published, outputs=["out"])
    return parser
