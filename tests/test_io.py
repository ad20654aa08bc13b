"""Image-set and embedding files: round trips, atomic writes, resumable embedding writes, clear errors."""

import json

import h5py
import numpy as np
import pytest

from memprint import MemprintError
from memprint.embedding_files import EmbeddingWriter, read_embeddings
from memprint.io import ImageSet, atomic_path, read_imageset, write_imageset


def small_set(rng, n=10, c=3):
    return ImageSet(
        rng.integers(0, 256, (n, 8, 8, c), dtype=np.uint8),
        np.arange(n),
        np.array([f"i{k}" for k in range(n)], object),
        {"source": "test", "seed": 1},
    )


def test_imageset_round_trip_with_provenance(tmp_path, rng):
    original = small_set(rng)
    write_imageset(tmp_path / "set.h5", original)
    back = read_imageset(tmp_path / "set.h5")
    np.testing.assert_array_equal(back.images, original.images)
    np.testing.assert_array_equal(back.labels, original.labels)
    assert list(back.image_ids) == list(original.image_ids)
    assert back.attrs["content_sha256"] == original.content_hash()
    assert back.attrs["source"] == "test" and "memprint_version" in back.attrs
    assert not (tmp_path / "set.h5.tmp").exists()


@pytest.mark.parametrize(
    "images, match",
    [
        (np.zeros((4, 8, 8, 3), np.float32), "uint8"),
        (np.zeros((4, 8, 8), np.uint8), "shape"),
        (np.zeros((4, 8, 8, 2), np.uint8), "shape"),
        (np.zeros((0, 8, 8, 3), np.uint8), "no images"),
    ],
)
def test_bad_images_are_named(images, match):
    with pytest.raises(MemprintError, match=match):
        ImageSet(images, np.zeros(len(images)), np.zeros(len(images), object), {})


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert not target.exists() and not (tmp_path / "out.txt.tmp").exists()


def test_missing_and_corrupt_files_are_clear_errors(tmp_path):
    with pytest.raises(MemprintError, match="not found"):
        read_imageset(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(MemprintError, match="not a readable HDF5"):
        read_imageset(tmp_path / "junk.h5")


def _writer(path, n=1000, key="k"):
    return EmbeddingWriter(
        path, ["patch_embed", "blocks.00"], [4, 6], n, [str(i) for i in range(n)], key, {"encoder": "x"}
    )


def test_embedding_layout_chunks_dtype_and_resume(tmp_path, rng):
    path = tmp_path / "emb.h5"
    layers = [rng.normal(size=(1000, 4)).astype(np.float32), rng.normal(size=(1000, 6)).astype(np.float32)]
    writer = _writer(path)
    writer.write(0, [a[:600] for a in layers])
    writer.close()  # interrupted: only the tmp file exists
    assert not path.exists() and (tmp_path / "emb.h5.tmp").exists()
    with pytest.raises(MemprintError):
        read_embeddings(path)
    resumed = _writer(path)
    assert resumed.rows_done == 600
    resumed.write(600, [a[600:] for a in layers])
    resumed.finish()
    emb = read_embeddings(path)
    assert emb.layer_names == ["patch_embed", "blocks.00"]
    np.testing.assert_allclose(emb.layers[1], layers[1].astype(np.float16).astype(np.float32))
    with h5py.File(path, "r", locking=False) as f:
        ds = f["layers/blocks.00"]
        assert ds.dtype == np.float16 and ds.chunks == (512, 6) and ds.compression is None
        assert json.loads(f.attrs["layer_names"]) == ["patch_embed", "blocks.00"] and f.attrs["complete"]


def test_a_lazy_read_gives_the_same_layers_one_at_a_time(tmp_path, rng):
    path = tmp_path / "emb.h5"
    writer = _writer(path, n=50)
    writer.write(0, [rng.normal(size=(50, 4)), rng.normal(size=(50, 6))])
    writer.finish()
    eager, lazy = read_embeddings(path), read_embeddings(path, lazy=True)
    assert len(lazy.layers) == 2 and not isinstance(lazy.layers, list)
    for a, b in zip(eager.layers, lazy.layers):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(lazy.layers[-1], eager.layers[1])
    with pytest.raises(IndexError):
        lazy.layers[2]


def test_resume_with_another_key_starts_over(tmp_path, rng):
    path = tmp_path / "emb.h5"
    writer = _writer(path, key="old")
    writer.write(0, [np.zeros((100, 4)), np.zeros((100, 6))])
    writer.close()
    assert _writer(path, key="new").rows_done == 0


def test_torn_tmp_file_is_replaced(tmp_path):
    (tmp_path / "emb.h5.tmp").write_bytes(b"\x89HDF torn")
    assert _writer(tmp_path / "emb.h5").rows_done == 0


def test_unknown_layer_is_named(tmp_path, rng):
    writer = _writer(tmp_path / "emb.h5", n=5)
    writer.write(0, [np.zeros((5, 4)), np.zeros((5, 6))])
    writer.finish()
    with pytest.raises(MemprintError, match=r"blocks\.07"):
        read_embeddings(tmp_path / "emb.h5", ["blocks.07"])


def test_csv_round_trip_keeps_ids_holding_a_hash(tmp_path):
    """Duplicated training images have ids such as ``img/3#copy2``: read back whole, not cut at the ``#``."""
    import pandas as pd

    from memprint.io import read_csv, read_csv_provenance, write_csv

    table = pd.DataFrame({"nearest_train_id": ["img/3#copy2", "img/4"], "p_value": [0.001, 0.5], "copy": [True, False]})
    write_csv(table, tmp_path / "t.csv", {"level": 0.01})
    back = read_csv(tmp_path / "t.csv")
    assert back.equals(table) and read_csv_provenance(tmp_path / "t.csv")["level"] == 0.01
