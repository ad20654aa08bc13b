"""The second sweep of faults (issue #28): outputs never destroy inputs, pixel scales are inferred or refused, T, P
and Q are checked together, configs refuse what YAML would silently change, class paths run only in their job,
and every failure is one line with a non-zero exit and no file left behind."""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from memprint import MemprintError
from memprint.cli.main import main
from memprint.config import read_yaml, validate
from memprint.io import ImageSet, write_imageset
from tests.conftest import ASSETS, TINY_CONFIG

ROOT = os.geteuid() == 0


def run(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    return code, err


def one_line(code: int, err: str, pattern: str) -> None:
    import re

    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert re.search(pattern, err), err


@pytest.fixture
def sets(tmp_path, rng):
    """T, P and Q embedding files and an image set, as a user's folder holds them."""
    from memprint.embedding_files import EmbeddingWriter

    paths = {}
    for name, n in (("T", 200), ("P", 100), ("Q", 100)):
        path = paths[name] = str(tmp_path / f"{name}.h5")
        writer = EmbeddingWriter(
            path, ["blocks.00"], [4], n, np.array([f"{name}{i}" for i in range(n)], object), "k", {}
        )
        writer.write(0, [rng.normal(size=(n, 4)).astype(np.float32)])
        writer.finish()
        writer.close()
    images = ImageSet(
        rng.integers(0, 256, (20, 8, 8, 1), dtype=np.uint8),
        np.zeros(20, np.int64),
        np.arange(20).astype(str).astype(object),
        {},
    )
    paths["images"] = str(tmp_path / "images.h5")
    write_imageset(paths["images"], images)
    return paths


def _copies(sets, out):
    return ["copies", "--train", sets["T"], "--test", sets["P"], "--generated", sets["Q"], "--out", out, "--cells", "2"]


# ------------------------------------------------------------------------------- outputs never destroy inputs


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(sets, capsys):
    from pathlib import Path

    before = Path(sets["T"]).read_bytes()
    one_line(*run(_copies(sets, sets["T"]), capsys), r"--out .*T.h5: is the input --train")
    assert Path(sets["T"]).read_bytes() == before


def test_an_output_onto_a_device_a_symlink_or_a_foreign_file_is_refused(sets, tmp_path, capsys):
    one_line(*run(_copies(sets, "/dev/null"), capsys), r"/dev/null: is a device or special file")
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    one_line(*run(_copies(sets, str(link)), capsys), r"link.csv: is a symbolic link")
    one_line(*run(_copies(sets, str(target)), capsys), r"notes.txt: exists and was not written by memprint")
    assert target.read_text() == "mine" and link.is_symlink()


def test_an_earlier_memprint_output_may_be_replaced(sets, tmp_path, capsys):
    out = str(tmp_path / "copies.csv")
    assert run(_copies(sets, out), capsys)[0] == 0
    assert run(_copies(sets, out), capsys)[0] == 0
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_copies_match_generated_images_against_an_edited_training_set(sets, tmp_path, capsys):
    from memprint.io import read_csv

    out = tmp_path / "copies.csv"
    argv = [*_copies(sets, str(out)), "--training-transformed", f"crop_0.8={sets['T']}"]
    assert run(argv, capsys)[0] == 0
    assert set(read_csv(out)["transform"]) == {"identity", "T:crop_0.8"}


def test_two_outputs_of_one_command_must_differ(tmp_path, capsys):
    out = str(tmp_path / "same.h5")
    one_line(*run(["data", "--config", str(TINY_CONFIG), "--train", out, "--test", out], capsys), "same file")


@pytest.mark.skipif(not ROOT, reason="mounts a small tmpfs (root)")
def test_a_full_disk_is_one_line_before_the_work_and_leaves_nothing(sets, tmp_path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)]).returncode:
        pytest.skip("tmpfs cannot be mounted here")
    try:
        (full / "filler").write_bytes(b"\0" * 60_000)
        from memprint.embedding_files import EmbeddingWriter

        with pytest.raises(MemprintError, match=r"needs about .* MiB, its folder has .* free"):
            EmbeddingWriter(full / "emb.h5", ["a"], [384], 10_000, np.arange(10_000).astype(str), "k", {})
        one_line(*run(_copies(sets, str(full / "copies.csv")), capsys), r"could not write it \(the disk is full\)")
        assert sorted(os.listdir(full)) == ["filler"]
    finally:
        subprocess.run(["umount", str(full)])


@pytest.mark.skipif(not ROOT, reason="mounts a small tmpfs (root)")
def test_a_disk_that_fills_during_a_write_is_one_line_and_leaves_nothing(tmp_path):
    """The space check passes, then another process fills the disk: HDF5 fails while writing, and neither its
    freed objects nor the interpreter's exit may print or crash."""
    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(full)]).returncode:
        pytest.skip("tmpfs cannot be mounted here")
    script = f"""
import os, sys, numpy as np
from memprint import MemprintError
from memprint.embedding_files import EmbeddingWriter
writer = EmbeddingWriter("{full}/emb.h5", ["a", "b"], [384, 384], 100, np.arange(100).astype(str), "k", {{}})
free = os.statvfs("{full}")
open("{full}/filler", "wb").write(b"0" * (free.f_bavail * free.f_frsize - 4096))
try:
    writer.write(0, [np.ones((100, 384), np.float32)] * 2)
except MemprintError as err:
    print(err, file=sys.stderr)
"""
    try:
        done = subprocess.run(["python", "-c", script], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().splitlines() == [
            f"{full}/emb.h5: could not write it (the disk is full); free space or write elsewhere, then rerun"
        ]
        assert sorted(os.listdir(full)) == ["filler"]
    finally:
        subprocess.run(["umount", str(full)])


def test_a_write_that_fails_midway_removes_its_tmp_file(tmp_path, monkeypatch):
    from memprint.embedding_files import EmbeddingWriter

    writer = EmbeddingWriter(tmp_path / "emb.h5", ["a"], [4], 10, np.arange(10).astype(str), "k", {})
    monkeypatch.setattr(writer.file, "flush", lambda: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(MemprintError, match="the disk is full"):
        writer.write(0, [np.zeros((10, 4), np.float32)])
    writer.close()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_an_embedding_writer_leaves_no_lock_file_finished_or_interrupted(tmp_path):
    from memprint.embedding_files import EmbeddingWriter

    ids = np.arange(10).astype(str)
    done = EmbeddingWriter(tmp_path / "done.h5", ["a"], [4], 10, ids, "k", {})
    done.write(0, [np.zeros((10, 4), np.float32)])
    done.finish()
    stopped = EmbeddingWriter(tmp_path / "stopped.h5", ["a"], [4], 10, ids, "k", {})
    stopped.write(0, [np.zeros((5, 4), np.float32)])
    stopped.close()  # interrupted: the tmp file stays to resume from
    assert sorted(os.listdir(tmp_path)) == ["done.h5", "stopped.h5.tmp"]
    resumed = EmbeddingWriter(tmp_path / "stopped.h5", ["a"], [4], 10, ids, "k", {})
    assert resumed.rows_done == 5
    resumed.close()


def test_two_writers_of_one_embedding_file_do_not_share_its_tmp_file(tmp_path):
    from memprint.embedding_files import EmbeddingWriter

    first = EmbeddingWriter(tmp_path / "emb.h5", ["a"], [4], 10, np.arange(10).astype(str), "k", {})
    with pytest.raises(MemprintError, match="another memprint process is writing it"):
        EmbeddingWriter(tmp_path / "emb.h5", ["a"], [4], 10, np.arange(10).astype(str), "k", {})
    first.close()


# ------------------------------------------------------------------------------------------ pixel scales


def test_unit_range_images_saved_as_uint8_are_refused(tmp_path):
    from memprint.datasets import load_npz

    np.savez(tmp_path / "unit.npz", x=np.random.default_rng(0).integers(0, 2, (10, 8, 8, 3), dtype=np.uint8))
    with pytest.raises(MemprintError, match=r"0\.\.1 images saved as uint8"):
        load_npz(tmp_path / "unit.npz")


def test_few_bit_images_in_uint8_and_eight_bit_values_in_uint16_are_refused(tmp_path):
    from memprint.datasets import load_npz

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "four_bit.npz", x=rng.integers(0, 16, (10, 8, 8, 3), dtype=np.uint8))
    with pytest.raises(MemprintError, match=r"no pixel exceeds 15, so these are 0\.\.15 images .*scale them"):
        load_npz(tmp_path / "four_bit.npz")
    np.savez(tmp_path / "wide.npz", x=rng.integers(0, 256, (10, 8, 8, 3)).astype(np.uint16))
    with pytest.raises(MemprintError, match=r"16-bit images whose pixels never exceed 255 .*save them as uint8"):
        load_npz(tmp_path / "wide.npz")
    dark = rng.integers(0, 40, (10, 8, 8, 3), dtype=np.uint8)  # dark, but 0..255 images: read as they are
    np.savez(tmp_path / "dark.npz", x=dark)
    assert np.array_equal(load_npz(tmp_path / "dark.npz").images, dark)


@pytest.mark.parametrize("low, expected", [(0.0, "float 0..1"), (-1.0, "float -1..1")])
def test_float_images_are_scaled_by_their_inferred_range(tmp_path, low, expected):
    from memprint.datasets import load_npz

    x = np.linspace(low, 1.0, 10 * 8 * 8 * 3, dtype=np.float32).reshape(10, 8, 8, 3)
    np.savez(tmp_path / "f.npz", x=x)
    loaded = load_npz(tmp_path / "f.npz")
    assert loaded.images.min() == 0 and loaded.images.max() == 255 and loaded.attrs["pixel_range"].startswith(expected)
    np.savez(tmp_path / "g.npz", x=x * 255)
    with pytest.raises(MemprintError, match=r"neither 0\.\.1 nor -1\.\.1"):
        load_npz(tmp_path / "g.npz")


def test_sixteen_bit_pngs_are_scaled_not_clipped(tmp_path):
    from memprint.datasets import load_folder

    ramp = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).astype(np.uint16)
    for k in range(3):
        Image.fromarray(ramp).save(tmp_path / f"{k}.png")  # a uint16 array: a 16-bit grey PNG
    loaded = load_folder(tmp_path)
    np.testing.assert_array_equal(loaded.images[0, ..., 0], np.rint(ramp / 257).astype(np.uint8))
    assert (loaded.images == 255).mean() < 0.05


def test_a_network_clipped_by_its_declared_range_is_refused():
    from memprint.generators.networks import sample_module
    from memprint.generators.shards import image_generators

    class TanhNet(torch.nn.Module):
        def forward(self, z):
            return torch.tanh(z[:, :48].reshape(-1, 3, 4, 4) * 3)

    spec = {"latent_shape": [64], "output_range": [0, 1], "class_path": "tests.TanhNet"}
    with pytest.raises(MemprintError, match=r"outside output_range \[0, 1\].*set output_range"):
        sample_module(TanhNet(), spec, image_generators(0, 0, 8), torch.device("cpu"), 8)
    assert sample_module(
        TanhNet(), {**spec, "output_range": [-1, 1]}, image_generators(0, 0, 8), torch.device("cpu"), 8
    ).shape == (8, 4, 4, 3)


# --------------------------------------------------------------------------------- T, P and Q together


def _folder(path, n, size=8, mode="RGB", classes=("a",), seed=0):
    rng = np.random.default_rng(seed)
    for k in range(n):
        folder = path / classes[k % len(classes)]
        folder.mkdir(parents=True, exist_ok=True)
        shape = (size, size, 3) if mode == "RGB" else (size, size)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=mode).save(folder / f"{k}.png")
    return str(path)


def _folder_config(train, test, **data):
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["data"] = {"source": "folder", "folder": {"train": train, "test": test}, **data}
    config["ct"], config["ct_variants"] = {"cells": 2}, {}
    return config


def test_a_test_set_drawn_from_the_training_images_is_refused(tmp_path):
    from memprint.stages.data import make_data

    train = _folder(tmp_path / "train", 30)
    config = validate(_folder_config(train, train))
    with pytest.raises(MemprintError, match=r"30 of the 30 test images \(P\) are also training images"):
        make_data(config["data"], str(tmp_path / "T.h5"), str(tmp_path / "P.h5"))
    assert not list(tmp_path.glob("*.h5*"))
    config["data"]["overlap_allowed"] = True
    make_data(config["data"], str(tmp_path / "T.h5"), str(tmp_path / "P.h5"))


@pytest.mark.skipif(not (ASSETS / "cifar10").exists(), reason="needs ../shared/assets/cifar10")
def test_the_overlap_check_fires_on_cifar10_when_p_comes_from_the_training_file(tmp_path):
    from memprint.stages.data import make_data

    train = str(ASSETS / "cifar10" / "cifar10_train10k_uint8.npz")
    data = {
        "source": "cifar10",
        "seed": 0,
        "cifar10": {"train_npz": train, "test_npz": train, "train_limit": 2000, "test_limit": 500},
    }
    config = yaml.safe_load(TINY_CONFIG.read_text()) | {"data": data}
    with pytest.raises(MemprintError, match="test images \\(P\\) are also training images"):
        make_data(validate(config)["data"], str(tmp_path / "T.h5"), str(tmp_path / "P.h5"))


def test_sets_of_different_size_or_colour_mode_are_refused_before_any_embedding(tmp_path):
    from memprint.stages.data import make_data

    config = validate(_folder_config(_folder(tmp_path / "t", 30, 8), _folder(tmp_path / "p", 30, 6, "L", seed=1)))
    with pytest.raises(MemprintError, match=r"P holds 6x6 images with 1 channel\(s\), T 8x8 with 3"):
        make_data(config["data"], str(tmp_path / "T.h5"), str(tmp_path / "P.h5"))


def test_folder_labels_agree_by_class_name(tmp_path):
    from memprint.io import read_imageset
    from memprint.stages.data import make_data

    train = _folder(tmp_path / "t", 30, classes=("cat", "ship"))
    test = _folder(tmp_path / "p", 30, classes=("cat", "dog", "ship"), seed=1)
    make_data(validate(_folder_config(train, test))["data"], str(tmp_path / "T.h5"), str(tmp_path / "P.h5"))
    t, p = read_imageset(tmp_path / "T.h5"), read_imageset(tmp_path / "P.h5")
    ship = ["cat", "dog", "ship"].index("ship")
    assert set(t.labels[[i.startswith("ship/") for i in t.image_ids]]) == {ship}
    assert set(p.labels[[i.startswith("ship/") for i in p.image_ids]]) == {ship}


def test_too_small_a_test_set_or_training_folder_is_refused(tmp_path, capsys, sets, rng):
    from memprint.embedding_files import EmbeddingWriter

    writer = EmbeddingWriter(
        str(tmp_path / "P3.h5"), ["blocks.00"], [4], 3, np.array(["p0", "p1", "p2"], object), "k", {}
    )
    writer.write(0, [rng.normal(size=(3, 4)).astype(np.float32)])
    writer.finish()
    writer.close()
    args = ["ct", "--train", sets["T"], "--test", str(tmp_path / "P3.h5"), "--generated", sets["Q"], "--cells", "5"]
    one_line(*run(args, capsys), r"3 test points \(P\).*at least 5 per cell \(25\)")
    config = _folder_config(_folder(tmp_path / "t3", 3), _folder(tmp_path / "p3", 30, seed=1))
    for cells in (4, 3, 1):  # fewer images than cells, as many, and too few for even one cell's distances
        with pytest.raises(MemprintError, match=f"{cells} cells for a training set of 3 images: each cell needs"):
            validate({**config, "ct": {"cells": cells}})


def test_dropped_cells_are_a_recorded_warning(rng):
    from memprint.ct import CTSettings, LayerReference

    train, test = rng.normal(size=(300, 2)), rng.normal(size=(200, 2))
    reference = LayerReference.fit(train, test, CTSettings(cells=4, min_generated_per_cell=20))
    result = reference.score(rng.normal(loc=3.0, size=(60, 2)))  # far out: most cells hold too few of Q
    assert result.cells_used < 4 and "cells left out" in result.warning


# --------------------------------------------------------------------------------------------- configs


def test_a_key_given_twice_is_an_error_with_its_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("generators:\n  kde: {kind: kde, bandwidth: 0.1}\n  kde: {kind: kde, bandwidth: 0.2}\n")
    with pytest.raises(MemprintError, match=r"line 3.*'kde' is given twice \(first at line 2\)"):
        read_yaml(path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["generators"].update({True: {"kind": "copier"}}), r"name True is read by YAML as a bool.*'on'"),
        (lambda c: c["generators"].update({0.1: {"kind": "copier"}}), r"name 0.1 is read by YAML as a float"),
        (lambda c: c["generators"]["copier"].update(seed=-1), r"copier.seed: -1 is less than the minimum of 0"),
        (lambda c: c["generators"]["copier"].update(seed=2**32), r"copier.seed: 4294967296 is greater than"),
        (lambda c: c["generators"]["copier"].update(samples=100.0), r"copier.samples: 100.0 is not of type 'integer'"),
        (lambda c: c["ct"].update(tau=0.9), r"at ct.tau: 0.9 with 3 cells.*tau below 1/cells"),
        (lambda c: c["ct"].update(cells=200), r"at ct.cells: 200 cells for a test set \(P\) of 594 images"),
    ],
    ids=[
        "yaml boolean name",
        "yaml number name",
        "negative seed",
        "seed above 2^32",
        "float count",
        "tau",
        "cells vs P",
    ],
)
def test_configs_refuse_what_yaml_or_the_schema_would_let_through(edit, message):
    import re

    config = yaml.safe_load(TINY_CONFIG.read_text())
    edit(config)
    with pytest.raises(MemprintError) as caught:
        validate(config)
    assert re.search(message, str(caught.value)), str(caught.value)


def test_a_class_path_runs_only_in_its_job_and_must_name_a_network(tmp_path, monkeypatch):
    from memprint.generators.networks import load_module

    marker = tmp_path / "imported"
    (tmp_path / "side_effect.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nimport torch\nclass Net(torch.nn.Linear):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    config = yaml.safe_load(TINY_CONFIG.read_text())
    checkpoint = tmp_path / "net.pt"
    torch.save(torch.nn.Linear(4, 48).state_dict(), checkpoint)
    spec = {"kind": "module", "class_path": "side_effect.Net", "checkpoint": str(checkpoint), "latent_shape": [4]}
    config["generators"]["net"] = {**spec, "arguments": {"in_features": 4, "out_features": 48}, "samples": 300}
    validate(config)
    assert not marker.exists(), "planning the workflow imported the class path's module"
    load_module(config["generators"]["net"], str(checkpoint))
    assert marker.exists()
    with pytest.raises(MemprintError, match=r"'os\.system' is a builtin_function_or_method, not a torch\.nn\.Module"):
        load_module({**spec, "class_path": "os.system", "arguments": {"command": "touch /tmp/pwned"}}, str(checkpoint))


# --------------------------------------------------------------------------------------- model files


def test_checkpoints_that_are_not_state_dicts_are_one_clear_line(tmp_path, sets, capsys):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "whole.pt")  # a pickled module, not a state dict
    from memprint.checkpoints import load_checkpoint

    with pytest.raises(MemprintError, match=r"pickled Python objects .*torch.save\(model.state_dict\(\), path\)"):
        load_checkpoint(tmp_path / "whole.pt", "encoder")
    torch.save({"weight": torch.zeros(2)}, tmp_path / "plain.pt")
    invmm = ["invmm", "--images", sets["images"], "--out", str(tmp_path / "s.csv")]
    one_line(*run([*invmm, "--model", str(tmp_path / "plain.pt")], capsys), r"plain.pt lacks arch")
    one_line(*run([*invmm, "--model", "/etc/hostname"], capsys), r"is not a torch checkpoint")
    assert not (tmp_path / "s.csv").exists()


def test_weights_of_another_architecture_or_without_their_key_are_one_clear_line(tmp_path):
    import torchvision

    from memprint.generators.networks import load_module
    from memprint.stages.segmenter import train_segmenter

    torch.save(torchvision.models.resnet34(weights=None).state_dict(), tmp_path / "r34.pt")
    torch.save(torch.zeros(3), tmp_path / "bare.pt")
    spec = {"init_weights": str(tmp_path / "r34.pt"), "train_images": None, "seed": 0}
    with pytest.raises(MemprintError, match=r"r34.pt does not fit the architecture ResNet \(keys: 96 unexpected"):
        train_segmenter(spec, "no_train.h5", "no_test.h5", str(tmp_path / "s.pt"), str(tmp_path / "q.json"))
    module = {"kind": "module", "class_path": "torch.nn.Linear", "arguments": {"in_features": 2, "out_features": 2}}
    torch.save({"model": torch.nn.Linear(2, 2).state_dict()}, tmp_path / "keyed.pt")
    with pytest.raises(MemprintError, match=r"keyed.pt has no 'ema' \(state_key\); it holds \['model'\]"):
        load_module({**module, "state_key": "ema"}, str(tmp_path / "keyed.pt"))
    assert load_module({**module, "state_key": "model"}, str(tmp_path / "keyed.pt"))[0].weight.shape == (2, 2)
    with pytest.raises(MemprintError, match=r"bare.pt holds Tensor, not a state dict of tensors"):
        load_module(module, str(tmp_path / "bare.pt"))
    assert not list(tmp_path.glob("s.pt*")) and not (tmp_path / "q.json").exists()


@pytest.mark.parametrize("option, value", [("--limit", "0"), ("--max-steps", "0"), ("--batch-size", "-1")])
def test_counts_below_one_are_refused_by_the_parser(option, value, sets, tmp_path, capsys):
    argv = ["invmm", "--model", sets["T"], "--images", sets["images"], "--out", str(tmp_path / "s.csv"), option, value]
    one_line(*run(argv, capsys), rf"argument {option}: {value} is not a positive integer; see memprint invmm --help")


def test_an_image_set_whose_pixels_changed_is_refused_on_read(tmp_path, rng):
    import h5py

    from memprint.io import read_imageset

    path = tmp_path / "set.h5"
    write_imageset(
        path,
        ImageSet(
            rng.integers(0, 256, (4, 8, 8, 1), dtype=np.uint8),
            np.zeros(4, np.int64),
            np.arange(4).astype(str).astype(object),
            {},
        ),
    )
    read_imageset(path)
    with h5py.File(path, "a") as f:
        f["images"][0, 0, 0, 0] ^= 1  # one bit
    with pytest.raises(MemprintError, match="do not match the SHA-256 recorded"):
        read_imageset(path)


def test_a_held_out_share_of_the_training_folder_is_p_and_leaves_t(tmp_path):
    from memprint.config_checks import data_sizes
    from memprint.io import read_imageset
    from memprint.stages.data import make_data

    train = _folder(tmp_path / "t", 40, classes=("cat", "ship"))
    config = _folder_config(train, None)
    config["data"]["folder"] = {"train": train, "test_share": 0.25}
    config = validate(config)
    assert data_sizes(config) == (30, 10)  # known before any image is read, as the data step draws it
    make_data(config["data"], str(tmp_path / "T.h5"), str(tmp_path / "P.h5"))
    t, p = read_imageset(tmp_path / "T.h5"), read_imageset(tmp_path / "P.h5")
    assert (len(t), len(p)) == (30, 10) and not set(t.image_ids) & set(p.image_ids)
    assert sorted(p.labels.tolist()) == [0] * 5 + [1] * 5  # class-stratified
    assert "test_share 0.25" in p.attrs["subset"]
    for folder in ({"train": train}, {"train": train, "test": train, "test_share": 0.2}):
        config = _folder_config(train, None)
        config["data"]["folder"] = folder
        with pytest.raises(MemprintError, match=r"give either test \(.*or test_share"):
            validate(config)


def test_audit_takes_a_held_out_share_of_the_training_folder_instead_of_a_test_folder(tmp_path):
    from memprint.audit import audit_config
    from memprint.cli.parser import build_parser

    train, generated = _folder(tmp_path / "t", 40), _folder(tmp_path / "q", 10, seed=2)
    common = ["audit", "--train", train, "--generated", generated, "--encoder", str(tmp_path), "--out", "x"]
    args = build_parser().parse_args([*common, "--test-share", "0.2"])
    config = audit_config(args)
    assert config["data"]["folder"] == {"train": str(Path(train).resolve()), "test_share": 0.2}
    with pytest.raises(MemprintError, match="one of the arguments --test --test-share is required"):
        build_parser().parse_args(common)
    with pytest.raises(MemprintError, match=r"--test-share 1\.5: give a share between 0 and 1"):
        audit_config(build_parser().parse_args([*common, "--test-share", "1.5"]))
