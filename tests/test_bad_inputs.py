"""Bad input: one line naming the input, the problem and the fix; a non-zero exit; no output or .tmp file left.

Three tables: the CLI (``memprint ...``, run in-process), the config (the loader Snakemake and the CLI share, so
each case also holds for ``snakemake -n``; one case shows it), and a failing job whose log reaches the console.
"""

import os
import re

import numpy as np
import pytest
import yaml
from PIL import Image

from memprint import MemprintError
from memprint.cli.main import main
from memprint.config import validate
from memprint.embedding_files import EmbeddingWriter
from memprint.io import ImageSet, write_imageset
from tests.conftest import TINY_CONFIG, snakemake

TINY_VIT = {"kind": "timm", "name": "vit_tiny_patch16_224", "weights": "random"}


# ------------------------------------------------------------------------------------------------ inputs


def _npy(tmp, name, array):
    np.save(tmp / name, array)
    return str(tmp / name)


def _file(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _symlink(path):
    (path.parent / "elsewhere.csv").write_text("x")
    path.symlink_to(path.parent / "elsewhere.csv")
    return str(path)


def _truncated(path, size):
    with open(path, "r+b") as handle:
        handle.truncate(size)
    return str(path)


def _embeddings(tmp, name, n, weights="aaa", layers=("patch_embed", "blocks.00"), seed=0, finish=True):
    rng = np.random.default_rng(seed)
    path = str(tmp / name)
    ids = np.array([f"{name}{i}" for i in range(n)], object)
    writer = EmbeddingWriter(path, list(layers), [4] * len(layers), n, ids, "k", {"weights_sha256": weights})
    writer.write(0, [rng.normal(size=(n, 4)).astype(np.float32) for _ in layers])
    if finish:
        writer.finish()
        return path
    writer.close()
    os.replace(path + ".tmp", path)  # a half-written file someone renamed into place
    return path


def _ct_score(**settings) -> dict:
    """A C_T score's spec, as the config loader fills it."""
    from memprint.ct import CTSettings

    return {"kind": "ct", **CTSettings(**settings).__dict__}


def _good(tmp, n_train=200, n_test=100, n_generated=100):
    rng = np.random.default_rng(0)
    return [
        _npy(tmp, f"{k}.npy", rng.normal(size=(n, 4)).astype(np.float32))
        for k, n in (("T", n_train), ("P", n_test), ("Q", n_generated))
    ]


def _ct(tmp, *extra, train=None, test=None, generated=None, cells="2"):
    t, p, q = _good(tmp)
    return ["ct", "--train", train or t, "--test", test or p, "--generated", generated or q, "--cells", cells, *extra]


def _three_d(tmp, *extra):
    arrays = [_npy(tmp, f"{k}3.npy", np.random.default_rng(0).normal(size=(2, 90, 4))) for k in "TPQ"]
    return _ct(tmp, *extra, train=arrays[0], test=arrays[1], generated=arrays[2])


def _with_bad_value(tmp, value):
    array = np.random.default_rng(0).normal(size=(100, 4)).astype(np.float32)
    array[3, 1] = value
    return _ct(tmp, generated=_npy(tmp, "Qbad.npy", array))


def _flip_bytes(tmp):
    """A few bytes flipped inside an embedding chunk (found through HDF5's chunk index)."""
    import h5py

    path = _embeddings(tmp, "T.h5", 600)
    with h5py.File(path, "r") as f:
        offset = f["layers/blocks.00"].id.get_chunk_info(0).byte_offset + 40
    with open(path, "r+b") as handle:
        handle.seek(offset)
        chunk = handle.read(4)
        handle.seek(offset)
        handle.write(bytes(255 - b for b in chunk))
    return path


def _h5s(tmp, train=None, test=None, generated=None, *extra):
    return [
        "ct",
        "--train",
        train or _embeddings(tmp, "T.h5", 200),
        "--test",
        test or _embeddings(tmp, "P.h5", 100, seed=1),
        "--generated",
        generated or _embeddings(tmp, "Q.h5", 100, seed=2),
        "--cells",
        "2",
        *extra,
    ]


def _object_npy(tmp):
    np.save(tmp / "O.npy", np.array([1, "a"], object), allow_pickle=True)
    return str(tmp / "O.npy")


def _image_set(tmp, name="set.h5", images=None):
    images = np.zeros((4, 8, 8, 3), np.uint8) if images is None else images
    ids = np.array([f"i{k}" for k in range(len(images))], object)
    write_imageset(tmp / name, ImageSet(images, np.zeros(len(images)), ids, {}))
    return str(tmp / name)


def _foreign_weights(tmp):
    import torch

    torch.save({"x": torch.zeros(2)}, tmp / "w.pt")
    return str(tmp / "w.pt")


def _yaml(tmp, name, value):
    (tmp / name).write_text(yaml.safe_dump(value))
    return str(tmp / name)


def _embed(tmp, spec=TINY_VIT, *extra, images=None, out=None):
    return [
        "embed",
        "--encoder",
        _yaml(tmp, "enc.yaml", spec),
        "--images",
        images or _image_set(tmp),
        "--out",
        out or str(tmp / "e.h5"),
        *extra,
    ]


def _config(tmp, edit=lambda c: None):
    cfg = {
        "data": {"source": "digits"},
        "generators": {"kde": {"kind": "kde", "bandwidth": 0.1, "samples": 50}},
        "encoders": {"v": TINY_VIT},
        "ct": {},
        "fingerprint": {"target_size": 25, "reference_sizes": [25], "statistics_features": "v"},
    }
    edit(cfg)
    return _yaml(tmp, "c.yaml", cfg)


def _data(tmp, edit):
    return ["data", "--config", _config(tmp, edit), "--train", str(tmp / "a.h5"), "--test", str(tmp / "b.h5")]


def _cifar_npz(tmp, name, **arrays):
    np.savez(tmp / name, **arrays)
    return str(tmp / name)


def _cifar(tmp, train_npz):
    def edit(c):  # sets of 9 images: one C_T cell, so the size checks let the data step find the file's fault
        c["data"] = {"source": "cifar10", "cifar10": {"train_npz": train_npz, "test_npz": train_npz}}
        c["ct"], c["ct_variants"] = {"cells": 1, "min_test_per_cell": 1}, {}

    return _data(tmp, edit)


def _folder(tmp, files):
    """A train and a test folder of images; ``files``: name -> array, or bytes for a broken file."""
    for split in ("train", "test"):
        folder = tmp / split
        folder.mkdir(exist_ok=True)
        for name, content in files.items():
            if isinstance(content, bytes):
                (folder / name).write_bytes(content)
            else:
                Image.fromarray(content).save(folder / name)

    def edit(c):  # folders of a few images: one C_T cell, so the size checks let the data step find the fault
        c["data"] = {"source": "folder", "folder": {"train": str(tmp / "train"), "test": str(tmp / "test")}}
        c["ct"], c["ct_variants"] = {"cells": 1, "min_test_per_cell": 1}, {}

    return _data(tmp, edit)


def _truncated_png(tmp):
    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(tmp / "whole.png")
    data = (tmp / "whole.png").read_bytes()
    (tmp / "whole.png").unlink()
    return _folder(tmp, {"a.png": np.full((8, 8, 3), 90, np.uint8), "cut.png": data[: len(data) // 2]})


def _sample(tmp, spec, *extra, train=None):
    return [
        "sample",
        "--config",
        _config(tmp, lambda c: c["generators"].update(g=spec)),
        "--generator",
        "g",
        "--train",
        train or _image_set(tmp, "train.h5", np.zeros((60, 8, 8, 3), np.uint8)),
        "--out",
        str(tmp / "o.h5"),
        *extra,
    ]


RGB, GREY = np.full((8, 8, 3), 90, np.uint8), np.full((8, 8), 90, np.uint8)

# (id, argv builder, what the one line must say)
CLI_CASES = [
    # memprint ct: silently wrong before
    ("ct tau negative", lambda t: _ct(t, "--tau", "-1"), r"tau must be in \[0, 1\)"),
    ("ct layer on a 2-D npy", lambda t: _ct(t, "--layer", "5"), r"--layer 5: .*T.npy is one \(N, D\) layer"),
    (
        "ct two encoders (weights)",
        lambda t: _h5s(t, generated=_embeddings(t, "Q.h5", 100, weights="bbb")),
        r"Q.h5 and .*T.h5 come from different encoders",
    ),
    (
        "ct two encoders (layer names)",
        lambda t: _h5s(t, test=_embeddings(t, "P.h5", 100, layers=("patch_embed", "layer1"))),
        r"P.h5 and .*T.h5 come from different encoders",
    ),
    (
        "ct corrupt embedding chunk",
        lambda t: _h5s(t, train=_flip_bytes(t)),
        r"T.h5: corrupt embedding data .*delete the file and rerun the embedding step",
    ),
    ("ct pca dim above width", lambda t: _ct(t, "--pca-dim", "9"), r"pca_dim 9 > embedding width 4.*; lower it"),
    # memprint ct: tracebacks before
    ("ct layer name on a 3-D npy", lambda t: _three_d(t, "--layer", "blocks.05"), r"--layer blocks.05: .* 0..1"),
    ("ct layer index out of range", lambda t: _three_d(t, "--layer", "7"), r"--layer 7: .* holds layers 0..1"),
    (
        "ct truncated npy",
        lambda t: _ct(t, train=_truncated(_npy(t, "cut.npy", np.zeros((200, 4))), 100)),
        r"cut.npy: not a readable numeric .npy",
    ),
    ("ct string npy", lambda t: _ct(t, train=_npy(t, "S.npy", np.array([["a"] * 4] * 9))), r"S.npy: holds <U1"),
    ("ct object npy", lambda t: _ct(t, train=_object_npy(t)), r"O.npy: not a readable numeric .npy"),
    ("ct folder", lambda t: _ct(t, train=str(t)), r"a folder, not an embedding file"),
    ("ct npz", lambda t: _ct(t, train=_cifar_npz(t, "e.npz", x=np.zeros((9, 4)))), r"e.npz: not an .npy or .h5"),
    ("ct pca dim zero", lambda t: _ct(t, "--pca-dim", "0"), r"--pca-dim: 0 is not a positive integer"),
    ("ct pca dim negative", lambda t: _ct(t, "--pca-dim", "-3"), r"--pca-dim: -3 is not a positive integer"),
    # memprint ct: clear before, kept so
    ("ct missing file", lambda t: _ct(t, train=str(t / "none.npy")), r"none.npy: file not found"),
    ("ct 1-D array", lambda t: _ct(t, train=_npy(t, "one.npy", np.zeros(9))), r"expected an \(N, D\) or \(L, N, D\)"),
    ("ct 4-D array", lambda t: _ct(t, train=_npy(t, "four.npy", np.zeros((2, 2, 2, 2)))), r"got shape \(2, 2, 2, 2\)"),
    ("ct NaN", lambda t: _with_bad_value(t, np.nan), r"Qbad.npy: contains NaN or infinite values; recompute"),
    ("ct inf", lambda t: _with_bad_value(t, np.inf), r"Qbad.npy: contains NaN or infinite values"),
    (
        "ct widths differ",
        lambda t: _ct(t, test=_npy(t, "P5.npy", np.zeros((100, 5)))),
        r"P5.npy: 5 dimensions, .*T.npy has 4; embed all three sets with one encoder",
    ),
    ("ct empty array", lambda t: _ct(t, generated=_npy(t, "Q0.npy", np.zeros((0, 4)))), r"Q0.npy: no rows"),
    ("ct 3-D against 2-D", lambda t: _ct(t, test=_npy(t, "P3.npy", np.zeros((2, 100, 4)))), r"layer counts differ"),
    (
        "ct layer counts differ",
        lambda t: _h5s(t, generated=_embeddings(t, "Q.h5", 100, layers=("patch_embed",))),
        r"layer counts differ",
    ),
    (
        "ct too few generated per cell",
        lambda t: _ct(t, generated=_npy(t, "Q9.npy", np.random.default_rng(5).normal(size=(9, 4)))),
        r"no cell .*holds more than tau x \|Q\| = 20.0 of the 9 generated samples; generate more samples",
    ),
    (
        "ct fewer training points than cells",
        lambda t: _ct(t, cells="300"),
        r"200 training points .*T needs at least 5 per cell \(1500\); lower ct.cells",
    ),
    (
        "ct as many training points as cells",
        lambda t: _ct(t, "--cells", "3", train=_npy(t, "T3.npy", np.random.default_rng(6).normal(size=(3, 4)))),
        r"3 training points .*3 cells: .*at least 5 per cell \(15\)",
    ),
    ("ct h5 that is an image set", lambda t: _h5s(t, train=_image_set(t)), r"set.h5: no /layers group"),
    (
        "ct h5 that is not HDF5",
        lambda t: _h5s(t, train=_file(t / "x.h5", b"no" * 99)),
        r"x.h5: not a readable HDF5 file",
    ),
    (
        "ct unknown layer on h5",
        lambda t: _h5s(t, None, None, None, "--layer", "blocks.09"),
        r"unknown layer\(s\) \['blocks.09'\]",
    ),
    (
        "ct truncated h5",
        lambda t: _h5s(t, train=_truncated(_embeddings(t, "T.h5", 200), 3000)),
        r"T.h5: not a readable",
    ),
    (
        "ct half-written h5",
        lambda t: _h5s(t, train=_embeddings(t, "T.h5", 200, finish=False)),
        r"T.h5: embedding file is incomplete; delete it and rerun",
    ),
    # memprint copies
    (
        "copies two encoders",
        lambda t: [
            "copies",
            "--train",
            _embeddings(t, "T.h5", 200),
            "--test",
            _embeddings(t, "P.h5", 100, weights="b"),
            "--generated",
            _embeddings(t, "Q.h5", 100),
            "--out",
            str(t / "o.csv"),
            "--cells",
            "2",
        ],
        r"P.h5 and .*T.h5 come from different encoders",
    ),
    (
        "copies level above 1",
        lambda t: ["copies", *_ct(t)[1:], "--out", str(t / "o.csv"), "--level", "1.5"],
        r"--level 1.5: a false-positive rate must be in \(0, 1\)",
    ),
    (
        "copies transformed without its test set",
        lambda t: ["copies", *_ct(t)[1:], "--out", str(t / "o.csv"), "--transformed", "hflip=Q.h5"],
        r"--transformed 'hflip=Q.h5': give NAME=GENERATED.h5,TEST.h5",
    ),
    (
        "copies training-transformed without its file",
        lambda t: ["copies", *_ct(t)[1:], "--out", str(t / "o.csv"), "--training-transformed", "crop_0.8"],
        r"--training-transformed 'crop_0.8': give NAME=TRAIN.h5",
    ),
    # issue 35: confident wrong numbers before
    (
        "ct P is T",
        lambda t: _ct(t, test=_good(t)[0]),
        r"200 of the 200 rows of .*T.npy \(P\) are also rows of .*T.npy \(T\): P must be held out",
    ),
    (
        "copies P is T",
        lambda t: ["copies", *_ct(t, test=_good(t)[0])[1:], "--out", str(t / "o.csv")],
        r"are also rows of .*\(T\): P must be held out from T",
    ),
    (
        "ct h5 T and P with an npy Q",
        lambda t: _h5s(t, generated=_good(t)[2]),
        r"memprint embedding files mixed with .npy arrays, so the one-encoder check cannot run",
    ),
    (
        "ct embeddings scaled by 1e30",
        lambda t: _ct(t, generated=_npy(t, "Qbig.npy", np.random.default_rng(3).normal(size=(100, 4)) * 1e30)),
        r"Qbig.npy: values up to .*beyond any encoder's scale",
    ),
    (
        "ct every row the same",
        lambda t: _ct(t, generated=_npy(t, "Qsame.npy", np.ones((100, 4)))),
        r"Qsame.npy: every row is the same vector",
    ),
    (
        "copies P too small for the level",
        lambda t: [
            "copies",
            *_ct(t, test=_npy(t, "P48.npy", np.random.default_rng(4).normal(size=(48, 4))), cells="1")[1:],
            "--out",
            str(t / "o.csv"),
        ],
        r"P holds 48 images: its smallest p-value, 1/49 = 0.0204, is above the level 0.01.*at least 99 images",
    ),
    (
        "copies derived images file is a foreign file",
        lambda t: ["copies", *_ct(t)[1:], "--out", str(t / "res.csv")] if _file(t / "res.images.csv", b"mine") else [],
        r"--images-out .*res.images.csv: exists and was not written by memprint",
    ),
    (
        "copies derived images file is a symlink",
        lambda t: ["copies", *_ct(t)[1:], "--out", str(t / "sym.csv")] if _symlink(t / "sym.images.csv") else [],
        r"sym.images.csv: is a symbolic link",
    ),
    (
        "copies transformed P and Q swapped",
        lambda t: [
            "copies",
            *_ct(t)[1:],
            "--out",
            str(t / "o.csv"),
            "--transformed",
            f"hflip={_good(t, n_test=150)[1]},{t / 'Q.npy'}",
        ],
        r"--transformed .*P.npy does not hold the images of --generated",
    ),
    # memprint data and sample: config read by the shared loader
    (
        "data without data section",
        lambda t: _data(t, lambda c: c.pop("data")),
        r"config error at top level: 'data' is a required property",
    ),
    (
        "data bad yaml",
        lambda t: [
            "data",
            "--config",
            _file(t / "bad.yaml", b"data: [1,\n  x: 2\n"),
            "--train",
            str(t / "a.h5"),
            "--test",
            str(t / "b.h5"),
        ],
        r"bad.yaml: not valid YAML at line \d+",
    ),
    (
        "data test fraction",
        lambda t: _data(t, lambda c: c["data"].update(test_fraction=1.5)),
        r"config error at data.test_fraction: 1.5 is greater than or equal to the maximum of 1",
    ),
    (
        "data truncated npz",
        lambda t: _cifar(t, _truncated(_cifar_npz(t, "x.npz", x=np.zeros((9, 8, 8, 3), np.uint8)), 60)),
        r"x.npz: not a readable .npz file",
    ),
    (
        "data float npz outside 0..1 and -1..1",
        lambda t: _cifar(t, _cifar_npz(t, "f.npz", x=np.full((9, 8, 8, 3), 200.0))),
        r"f.npz: float pixels span 200..200, neither 0..1 nor -1..1; save uint8 in 0..255",
    ),
    (
        "data npz without x",
        lambda t: _cifar(t, _cifar_npz(t, "n.npz", images=np.zeros((9, 8, 8, 3), np.uint8))),
        r"n.npz: no 'x' or 'arr_0' array; save images as np.savez",
    ),
    (
        "data npz with repeated file names",
        lambda t: _cifar(
            t,
            _cifar_npz(
                t, "d.npz", x=np.full((9, 8, 8, 3), 90, np.uint8), filenames=np.array(["a", "a", *map(str, range(7))])
            ),
        ),
        r"d.npz: file names repeat \(a \.\.\.\); give every image its own name",
    ),
    (
        "data missing npz",
        lambda t: _cifar(t, str(t / "missing.npz")),
        r"config error at data.cifar10.train_npz: file or folder .*missing.npz not found",
    ),
    (
        "data corrupt png",
        lambda t: _folder(t, {"a.png": RGB, "bad.png": b"not a png"}),
        r"bad.png: not a readable image",
    ),
    ("data truncated png", _truncated_png, r"cut.png: not a readable image"),
    (
        "data mixed sizes",
        lambda t: _folder(t, {"a.png": RGB, "big.png": np.full((9, 9, 3), 90, np.uint8)}),
        r"big.png: size \(9, 9\) differs .*resize the folder to one size",
    ),
    (
        "data grey and rgb",
        lambda t: _folder(t, {"a.png": RGB, "b.png": GREY}),
        r"b.png: grey while .*a.png is RGB; convert the folder's images to one colour mode",
    ),
    ("data empty folder", lambda t: _folder(t, {}), r"train: no image files; put images in it"),
    (
        "data held out more than is left",
        lambda t: [*_data(t, lambda c: c["data"].update(heldout=5000)), "--heldout", str(t / "h.h5")],
        r"data.heldout: 5000 images asked for, the test source has 0 left after P; lower data.heldout",
    ),
    (
        "sample negative samples",
        lambda t: _sample(t, {"kind": "kde", "bandwidth": 0.1, "samples": -5}),
        r"config error at generators.g.samples: -5 is less than the minimum of 2",
    ),
    (
        "sample zero bandwidth",
        lambda t: _sample(t, {"kind": "kde", "bandwidth": 0}),
        r"config error at generators.g.bandwidth: 0 is less than or equal to the minimum of 0",
    ),
    (
        "sample unknown generator kind",
        lambda t: _sample(t, {"kind": "vae"}),
        r"config error at generators.g.kind: 'vae' is not one of",
    ),
    (
        "sample too many gmm components",
        lambda t: _sample(t, {"kind": "gmm", "components": 5000}),
        r"config error at generators.g.components: 5000 components for 1203 training images; use fewer",
    ),
    (
        "sample generator not in config",
        lambda t: ["nope" if a == "g" else a for a in _sample(t, {"kind": "copier"})],
        r"generator 'nope' is not in .*c.yaml; it has \['g', 'kde'\]",
    ),
    (
        "sample images of another shape than T",
        lambda t: _sample(
            t, {"kind": "samples", "path": _cifar_npz(t, "s.npz", x=np.full((60, 16, 16, 3), 90, np.uint8))}
        ),
        r"generator g: its images are 16x16 with 3 channel\(s\), T's 8x8 with 3; give it images of T's size",
    ),
    (
        "sample needs the pipeline",
        lambda t: _sample(t, {"kind": "noise_background"}),
        r"generator g \(noise_background\) needs the pipeline .*; run it with snakemake",
    ),
    # memprint embed
    (
        "embed missing hf folder",
        lambda t: _embed(t, {"kind": "hf", "name": "./no/such", "weights": "random"}),
        r"Hugging Face model folder ./no/such not found; fix the path",
    ),
    ("embed unknown device", lambda t: _embed(t, TINY_VIT, "--device", "tpu"), r"device 'tpu' is unknown; use auto"),
    ("embed batch size zero", lambda t: _embed(t, TINY_VIT, "--batch-size", "0"), r"--batch-size: 0 is not a positive"),
    (
        "embed output folder missing",
        lambda t: _embed(t, out=str(t / "no" / "e.h5")),
        r"--out .*e.h5: folder .*no does not exist; create it first",
    ),
    (
        "embed junk weights",
        lambda t: _embed(t, {**TINY_VIT, "weights": "w.pt"}, "--weights", _file(t / "w.pt", b"junk" * 100)),
        r"w.pt is not a torch checkpoint \(KeyError while reading it\); give a file saved with torch.save",
    ),
    (
        "embed weights of another architecture",
        lambda t: _embed(t, {**TINY_VIT, "weights": "w.pt"}, "--weights", _foreign_weights(t)),
        r"w.pt does not fit the architecture",
    ),
    ("embed missing image file", lambda t: _embed(t, images=str(t / "none.h5")), r"none.h5: file not found"),
    (
        "embed an embedding file as images",
        lambda t: _embed(t, images=_embeddings(t, "E.h5", 10)),
        r"E.h5: no /images dataset; this is not a memprint image-set file",
    ),
    (
        "embed encoder file without weights",
        lambda t: _embed(t, {"kind": "timm", "name": "vit_tiny_patch16_224"}),
        r"enc.yaml: config error: 'weights' is a required property",
    ),
    (
        "invmm model missing",
        lambda t: ["invmm", "--model", str(t / "unet"), "--images", _image_set(t), "--out", str(t / "s.csv")],
        r"--model .*unet: not found; give a UNet2DModel folder",
    ),
]


@pytest.mark.parametrize("argv, message", [case[1:] for case in CLI_CASES], ids=[case[0] for case in CLI_CASES])
def test_bad_cli_input_is_one_clear_line_and_leaves_nothing(tmp_path, capsys, argv, message):
    args = argv(tmp_path)
    before = set(tmp_path.rglob("*"))
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("memprint: error: "), err
    assert re.search(message, err), err
    left = set(tmp_path.rglob("*")) - before
    assert not left, left


# ------------------------------------------------------------------------------------------------ config


def _tiny():
    return yaml.safe_load(TINY_CONFIG.read_text())


def _torchscript_missing(c):
    c["generators"]["ts"] = {"kind": "torchscript", "file": "/no/g.pt", "latent_shape": [8], "samples": 300}


def _zoo_clash(c):
    c["zoo"] = {"models": {"g": {"arch": "vae"}}, "epochs": [1], "samples": 300}
    c["generators"]["g_s0_e1"] = {"kind": "copier"}


def _invmm_on_a_kde(c):
    c["invmm"] = {"generators": ["kde_0.1"], "similarity": {"kind": "pixel_correlation"}}


def _hf_folder(c, input_size):
    import json
    import tempfile

    folder = tempfile.mkdtemp(prefix="memprint-hf-config-")
    with open(f"{folder}/config.json", "w") as handle:
        json.dump({"model_type": "dinov2", "patch_size": 14}, handle)
    c["encoders"]["d"] = {"kind": "hf", "name": folder, "weights": "pretrained", "input_size": input_size}


CONFIG_CASES = [
    # issue 35: accepted without a word before
    (
        "hf input size not a multiple of the patch",
        lambda c: _hf_folder(c, 100),
        r"at encoders.d.input_size: 100 is not a multiple of the model's patch size 14; use 98 or 112",
    ),
    ("input size beyond bounds", lambda c: _hf_folder(c, 100000), r"at encoders.d.input_size: 100000 is greater than"),
    (
        "fingerprinting left with nothing to tell apart",
        lambda c: [g.update(samples=150) for g in c["generators"].values()],
        r"at fingerprint: 0 architecture\(s\) left to tell apart .*copier: 150 samples, fewer than the protocol's",
    ),
    (
        "trained vit patch does not tile",
        lambda c: c["encoders"]["vit_tiny"].update(image_size=18, patch=4),
        r"at encoders.vit_tiny: image_size 18 is not a multiple of patch 4",
    ),
    (
        "trained vit width not divisible by heads",
        lambda c: c["encoders"]["vit_tiny"].update(width=30, heads=4),
        r"at encoders.vit_tiny: width 30 is not divisible by heads 4",
    ),
    (
        "crop of nothing",
        lambda c: c.setdefault("copies", {}).update(transforms=["identity", "crop_0.0"]),
        r"at copies.transforms: transform 'crop_0.0': 0.0 is out of range; give the kept share",
    ),
    ("unknown key, top", lambda c: c.update(extra=1), r"at top level: Additional properties .*'extra'"),
    (
        "unknown key, deep",
        lambda c: c["generators"]["kde_0.1"].update(bandwidht=0.1),
        r"at generators.kde_0.1: Additional properties .*'bandwidht'",
    ),
    ("unknown key, section", lambda c: c["ct"].update(cellz=3), r"at ct: Additional properties .*'cellz'"),
    (
        "wrong type",
        lambda c: c["generators"]["kde_0.1"].update(bandwidth="wide"),
        r"at generators.kde_0.1.bandwidth: 'wide' is not of type 'number'",
    ),
    ("negative samples", lambda c: c["generators"]["kde_0.1"].update(samples=-3), r"samples: -3 is less than"),
    (
        "unknown encoder kind",
        lambda c: c["encoders"]["vit_tiny"].update(kind="resnet"),
        r"at encoders.vit_tiny.kind: 'resnet' is not one of",
    ),
    ("unknown generator kind", lambda c: c["generators"].update(v={"kind": "vae"}), r"at generators.v.kind: 'vae'"),
    (
        "missing npz",
        lambda c: c.update(data={"source": "cifar10", "cifar10": {"train_npz": "/no/t.npz"}}),
        r"at data.cifar10.train_npz: file or folder /no/t.npz not found; fix the path",
    ),
    ("missing torchscript file", _torchscript_missing, r"at generators.ts.file: file or folder /no/g.pt not found"),
    (
        "missing hf weights",
        lambda c: c["encoders"].update(d={"kind": "hf", "name": "x/y", "weights": "/no/dir"}),
        r"at encoders.d.weights: file or folder /no/dir not found",
    ),
    (
        "missing hf folder with pretrained weights",
        lambda c: c["encoders"].update(d={"kind": "hf", "name": "./no/dinov2", "weights": "pretrained"}),
        r"at encoders.d.name: file or folder ./no/dinov2 not found",
    ),
    (
        "empty reference sizes",
        lambda c: c["fingerprint"].update(reference_sizes=[]),
        r"at fingerprint.reference_sizes: \[\] should be non-empty",
    ),
    ("zero cells", lambda c: c["ct"].update(cells=0), r"at ct.cells: 0 is less than the minimum of 1"),
    (
        "cells above the training set",
        lambda c: c["ct_variants"]["bai_code"].update(cells=2000),
        r"at ct_variants.bai_code.cells: 2000 cells for a training set of 1203 images: each cell needs at least 5",
    ),
    (
        "samples under the C_T cell threshold",
        lambda c: c["generators"]["kde_0.1"].update(samples=10),
        r"at generators.kde_0.1.samples: 10 samples cannot put more than 20 in any C_T cell",
    ),
    (
        "bad class path",
        lambda c: c["generators"].update(
            m={"kind": "module", "class_path": "no Such", "checkpoint": str(TINY_CONFIG), "latent_shape": [4]}
        ),
        r"class_path: 'no Such' is not of the form package.module.ClassName",
    ),
    (
        "generator named train",
        lambda c: c["generators"].update(train={"kind": "copier"}),
        r"at generators: the name 'train' is reserved for the pipeline's own image sets .*; rename the entry",
    ),
    (
        "generator name with a space",
        lambda c: c["generators"].update({"my gan": {"kind": "copier"}}),
        r"the name 'my gan' may hold only letters",
    ),
    (
        "claims baseline not a generator",
        lambda c: c["claims"].update(baseline="gan"),
        r"at claims.baseline: 'gan' is not a generator",
    ),
    (
        "copies validation without a perfect generator",
        lambda c: c.update(copies={"validation": {"fresh": "x"}}),
        r"at copies.validation.fresh: 'x' is not a generator",
    ),
    (
        "invmm on a generator that is not diffusion",
        _invmm_on_a_kde,
        r"at invmm.generators: 'kde_0.1' is not a diffusion generator",
    ),
    (
        "statistics features of no encoder",
        lambda c: c["fingerprint"].update(statistics_features="clip"),
        r"at fingerprint.statistics_features: 'clip' is neither inception nor an encoder",
    ),
    (
        "held-out source without data.heldout",
        lambda c: c["generators"].update(p={"kind": "unaltered", "source": "heldout"}),
        r"at generators.p.source: heldout needs data.heldout",
    ),
    ("zoo name clash", _zoo_clash, r"\['g_s0_e1'\] also name zoo generators; rename"),
    (
        "plugin that does not import",
        lambda c: c.update(plugins=["no_such_plugin"]),
        r"at plugins: 'no_such_plugin' could not be imported",
    ),
    (
        "torchvision classifier without arch",
        lambda c: c["fingerprint"]["classifiers"].update(
            t={"kind": "torchvision", "image_size": 32, "epochs": 1, "lr": 1}
        ),
        r"at fingerprint.classifiers.t: torchvision needs arch",
    ),
]


@pytest.mark.parametrize("edit, message", [case[1:] for case in CONFIG_CASES], ids=[case[0] for case in CONFIG_CASES])
def test_bad_config_is_one_clear_line_before_any_job(edit, message):
    config = _tiny()
    edit(config)
    with pytest.raises(MemprintError) as caught:
        validate(config)
    text = str(caught.value)
    assert "\n" not in text and re.search(message, text), text


@pytest.mark.pipeline
def test_snakemake_prints_the_loaders_one_line_and_makes_nothing(tmp_path):
    config = _tiny()
    config["generators"]["kde_0.1"]["samples"] = 10
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, path, "-n")
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("config error")]
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert "generators.kde_0.1.samples: 10 samples cannot put more than 20" in lines[0]
    assert not (tmp_path / "results").exists()


@pytest.mark.pipeline
def test_a_failed_job_shows_its_error_on_the_console(tmp_path):
    """A file that exists but is corrupt passes the checks before the run; the job fails, and its log's error
    line reaches the console (show-failed-logs in the workflow profile)."""
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    config = _tiny()
    config["generators"]["given"] = {"kind": "samples", "path": str(tmp_path / "broken.npz"), "samples": 300}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, path, "results/imagesets/given.h5")
    assert result.returncode != 0
    assert "broken.npz: not a readable .npz file" in result.stdout + result.stderr
    assert not list(tmp_path.glob("results/imagesets/given.h5*"))


def test_a_reference_fit_on_other_training_embeddings_is_refused(tmp_path):
    import h5py

    from memprint.embedding_files import read_embeddings
    from memprint.stages.scores import fit_references, load_reference

    train, other, test = (_embeddings(tmp_path, n, 200, seed=s) for n, s in (("T.h5", 0), ("U.h5", 1), ("P.h5", 2)))
    for path, sha in ((train, "a" * 64), (other, "b" * 64)):
        with h5py.File(path, "a") as f:
            f.attrs["imageset_sha256"] = sha
    ref = str(tmp_path / "ref.h5")
    fit_references(train=train, test=test, scores={"ct": _ct_score(cells=2)}, references={"ct": ref}, device="cpu")
    load_reference(ref, read_embeddings(train))  # its own training embeddings: fine
    with pytest.raises(MemprintError, match=r"ref.h5 was fit on other training embeddings .*rerun the reference step"):
        load_reference(ref, read_embeddings(other))


def test_a_fingerprint_set_too_small_for_every_cell_is_left_out_naming_the_fingerprint_sizes(tmp_path):
    """The fingerprint is optional: a set C_T cannot score leaves its generator out, with the sizes to raise."""
    import h5py

    from memprint.io import read_csv, read_csv_provenance
    from memprint.stages.fingerprint_curves import fingerprint_curves
    from memprint.stages.scores import fit_references

    train, test, generated = (
        _embeddings(tmp_path, n, k, seed=s) for n, k, s in (("T.h5", 200, 0), ("P.h5", 100, 1), ("Q.h5", 60, 2))
    )
    with h5py.File(train, "a") as f:
        f.attrs["imageset_sha256"] = "a" * 64
    ref, scores = str(tmp_path / "ref.h5"), {"ct": _ct_score(cells=2)}
    fit_references(train=train, test=test, scores=scores, references={"ct": ref}, device="cpu")
    out = tmp_path / "curves.csv"
    protocol = {"target_size": 20, "reference_sizes": [20], "splits": 1, "seed": 0}
    fingerprint_curves(
        references={"ct": ref},
        train=train,
        test=test,
        generated=generated,
        scores=scores,
        encoder="e",
        generator="q",
        architecture="a",
        run="q",
        protocol=protocol,
        curves={"ct": str(out)},
        device="cpu",
    )
    assert read_csv(out).empty
    assert re.search(
        r"its target set of 20 images \(split 0\) has no ct score .*raise fingerprint",
        read_csv_provenance(out)["left_out"],
    )
