"""Bad input through the CLI: one line naming the input, the problem and the fix; exit 2; nothing left behind."""

import numpy as np
import pytest
import yaml

from memprint.cli import main
from memprint.io import EmbeddingWriter, ImageSet, write_imageset


def _npy(tmp, name, array):
    np.save(tmp / name, array)
    return str(tmp / name)


def _embeddings(tmp, name, n, weights="aaa", layers=("patch_embed", "blocks.00"), seed=0):
    rng = np.random.default_rng(seed)
    path = str(tmp / name)
    writer = EmbeddingWriter(path, list(layers), [4] * len(layers), n, np.array([f"{name}{i}" for i in range(n)], object),
                             "k", {"weights_sha256": weights})
    writer.write(0, [rng.normal(size=(n, 4)).astype(np.float32) for _ in layers])
    writer.finish()
    writer.close()
    return path


def _good(tmp):
    rng = np.random.default_rng(0)
    return [_npy(tmp, f"{k}.npy", rng.normal(size=(n, 4)).astype(np.float32)) for k, n in (("T", 200), ("P", 100),
                                                                                           ("Q", 100))]


def _ct(tmp, *extra, train=None, test=None, generated=None):
    t, p, q = _good(tmp)
    return ["ct", "--train", train or t, "--test", test or p, "--generated", generated or q, "--cells", "2", *extra]


def _config(tmp, edit):
    cfg = {"data": {"source": "digits"}, "generators": {"kde": {"kind": "kde", "bandwidth": 0.1, "samples": 50}},
           "encoders": {"v": {"kind": "timm", "name": "vit_tiny_patch16_224", "weights": "random"}},
           "ct": {}, "fingerprint": {"target_size": 10, "reference_sizes": [10], "statistics_features": "v"}}
    edit(cfg)
    (tmp / "c.yaml").write_text(yaml.safe_dump(cfg))
    return str(tmp / "c.yaml")


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


def _image_set(tmp, images=None):
    images = np.zeros((4, 8, 8, 3), np.uint8) if images is None else images
    write_imageset(tmp / "set.h5", ImageSet(images, np.zeros(len(images)), np.array(list("abcd"), object), {}))
    return str(tmp / "set.h5")


def _encoder_yaml(tmp, spec):
    (tmp / "enc.yaml").write_text(yaml.safe_dump(spec))
    return str(tmp / "enc.yaml")


TINY_VIT = {"kind": "timm", "name": "vit_tiny_patch16_224", "weights": "random"}

# (id, argv builder, pattern the one-line message must match)
CASES = [
    ("ct tau negative", lambda t: _ct(t, "--tau", "-1"), r"tau must be in \[0, 1\)"),
    ("ct layer on a 2-D npy", lambda t: _ct(t, "--layer", "5"), r"--layer 5: .*T.npy is one \(N, D\) layer"),
    ("ct layer name on a 3-D npy", lambda t: _ct(t, "--layer", "blocks.05", train=_npy(t, "T3.npy", np.zeros((2, 9, 4))),
                                                 test=_npy(t, "P3.npy", np.zeros((2, 9, 4))),
                                                 generated=_npy(t, "Q3.npy", np.zeros((2, 9, 4)))),
     r"--layer blocks.05: .* holds layers 0..1"),
    ("ct layer index out of range", lambda t: _ct(t, "--layer", "7", train=_npy(t, "T3.npy", np.zeros((2, 9, 4))),
                                                  test=_npy(t, "P3.npy", np.zeros((2, 9, 4))),
                                                  generated=_npy(t, "Q3.npy", np.zeros((2, 9, 4)))),
     r"--layer 7: .* holds layers 0..1"),
    ("ct truncated npy", lambda t: _ct(t, train=(lambda p: (open(p, "r+b").truncate(100), p)[1])(
        _npy(t, "cut.npy", np.zeros((200, 4))))), r"cut.npy: not a readable numeric .npy"),
    ("ct string npy", lambda t: _ct(t, train=_npy(t, "S.npy", np.array([["a"] * 4] * 9))), r"S.npy: holds <U1 values"),
    ("ct object npy", lambda t: _ct(t, train=(lambda p: (np.save(p, np.array([1, "a"], dtype=object),
                                                                 allow_pickle=True), p)[1])(str(t / "O.npy"))),
     r"O.npy: not a readable numeric .npy"),
    ("ct folder", lambda t: _ct(t, train=str(t)), r"a folder, not an embedding file"),
    ("ct npz", lambda t: _ct(t, train=(lambda p: (np.savez(p, x=np.zeros((9, 4))), p)[1])(str(t / "e.npz"))),
     r"e.npz: not an .npy or .h5 file"),
    ("ct pca dim zero", lambda t: _ct(t, "--pca-dim", "0"), r"pca_dim must be >= 1"),
    ("ct pca dim negative", lambda t: _ct(t, "--pca-dim", "-3"), r"pca_dim must be >= 1"),
    ("ct pca dim above width", lambda t: _ct(t, "--pca-dim", "9"), r"pca_dim 9 > embedding width 4"),
    ("ct two encoders", lambda t: ["ct", "--train", _embeddings(t, "T.h5", 200), "--test", _embeddings(t, "P.h5", 100),
                                   "--generated", _embeddings(t, "Q.h5", 100, weights="bbb"), "--cells", "2"],
     r"Q.h5 and .*T.h5 come from different encoders"),
    ("ct other layer names", lambda t: ["ct", "--train", _embeddings(t, "T.h5", 200), "--test",
                                        _embeddings(t, "P.h5", 100, layers=("patch_embed", "layer1")), "--generated",
                                        _embeddings(t, "Q.h5", 100), "--cells", "2"],
     r"P.h5 and .*T.h5 come from different encoders"),
    ("ct corrupt embedding chunk", lambda t: ["ct", "--train", _flip_bytes(t), "--test", _embeddings(t, "P.h5", 100),
                                              "--generated", _embeddings(t, "Q.h5", 100), "--cells", "2"],
     r"T.h5: corrupt embedding data .*delete the file and rerun the embedding step"),
    ("copies two encoders", lambda t: ["copies", "--train", _embeddings(t, "T.h5", 200), "--test",
                                       _embeddings(t, "P.h5", 100, weights="bbb"), "--generated",
                                       _embeddings(t, "Q.h5", 100), "--out", str(t / "o.csv"), "--cells", "2"],
     r"P.h5 and .*T.h5 come from different encoders"),
    ("data without data section", lambda t: ["data", "--config", _config(t, lambda c: c.pop("data")), "--train",
                                             str(t / "a.h5"), "--test", str(t / "b.h5")],
     r"config error at top level: 'data' is a required property"),
    ("data bad yaml", lambda t: ["data", "--config", (lambda p: (open(p, "w").write("data: [1,\n  x: 2\n"), p)[1])(
        str(t / "bad.yaml")), "--train", str(t / "a.h5"), "--test", str(t / "b.h5")],
     r"bad.yaml: not valid YAML at line \d+"),
    ("data test fraction", lambda t: ["data", "--config", _config(t, lambda c: c["data"].update(test_fraction=1.5)),
                                      "--train", str(t / "a.h5"), "--test", str(t / "b.h5")],
     r"config error at data.test_fraction: 1.5 is greater than or equal to the maximum of 1"),
    ("sample negative samples", lambda t: ["sample", "--config", _config(t, lambda c: c["generators"]["kde"].update(
        samples=-5)), "--generator", "kde", "--train", str(t / "a.h5"), "--out", str(t / "o.h5")],
     r"config error at generators.kde.samples: -5 is less than the minimum of 2"),
    ("sample zero bandwidth", lambda t: ["sample", "--config", _config(t, lambda c: c["generators"]["kde"].update(
        bandwidth=0)), "--generator", "kde", "--train", str(t / "a.h5"), "--out", str(t / "o.h5")],
     r"config error at generators.kde.bandwidth: 0 is less than or equal to the minimum of 0"),
    ("data truncated npz", lambda t: ["data", "--config", _config(t, lambda c: c.update(data={
        "source": "cifar10", "cifar10": {"train_npz": (lambda p: (np.savez(p, x=np.zeros((9, 8, 8, 3), np.uint8)),
                                                                  open(p, "r+b").truncate(60), p)[2])(str(t / "x.npz")),
                                         "test_npz": str(t / "x.npz")}})), "--train", str(t / "a.h5"), "--test",
                                     str(t / "b.h5")], r"x.npz: not a readable .npz file"),
    ("data float npz", lambda t: ["data", "--config", _config(t, lambda c: c.update(data={
        "source": "cifar10", "cifar10": {"train_npz": (lambda p: (np.savez(p, x=np.zeros((9, 8, 8, 3))), p)[1])(
            str(t / "f.npz")), "test_npz": str(t / "f.npz")}})), "--train", str(t / "a.h5"), "--test",
                                  str(t / "b.h5")], r"f.npz: images must be a uint8 array"),
    ("embed missing hf folder", lambda t: ["embed", "--encoder", _encoder_yaml(t, {"kind": "hf", "name": "./no/such",
                                                                                  "weights": "random"}),
                                           "--images", _image_set(t), "--out", str(t / "e.h5")],
     r"Hugging Face model folder ./no/such not found"),
    ("embed unknown device", lambda t: ["embed", "--encoder", _encoder_yaml(t, TINY_VIT), "--images", _image_set(t),
                                        "--out", str(t / "e.h5"), "--device", "tpu"], r"device 'tpu' is unknown"),
    ("embed batch size zero", lambda t: ["embed", "--encoder", _encoder_yaml(t, TINY_VIT), "--images", _image_set(t),
                                         "--out", str(t / "e.h5"), "--batch-size", "0"], r"batch size must be >= 1"),
    ("embed junk weights", lambda t: ["embed", "--encoder", _encoder_yaml(t, {**TINY_VIT, "weights": "w.pt"}),
                                      "--weights", (lambda p: (open(p, "wb").write(b"junk" * 100), p)[1])(
                                          str(t / "w.pt")), "--images", _image_set(t), "--out", str(t / "e.h5")],
     r"w.pt.*(not a readable torch state dict|state dict)"),
]


@pytest.mark.parametrize("argv, message", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_one_clear_line_and_leaves_nothing(tmp_path, capsys, argv, message):
    import re

    args = argv(tmp_path)
    before = {p for p in tmp_path.rglob("*")}
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("memprint: error: "), err
    assert re.search(message, err), err
    left = {p for p in tmp_path.rglob("*")} - before
    assert not left, left
