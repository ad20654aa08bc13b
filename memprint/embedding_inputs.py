"""Embedding inputs of the CLI: ``.npy`` arrays ((N, D) or (L, N, D)) or memprint embedding files, each checked
(readable, numeric, finite, of the right shape) and T, P and Q checked against each other (one encoder)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from memprint import MemprintError

FLOAT16_MAX = 65504.0


def load_matrix(path: str, layer: str | None) -> tuple[list[str], list[np.ndarray], dict]:
    """A .npy (N, D) or (L, N, D) array, or a memprint embedding file (all layers, or ``layer``), and the
    embedding file's identity (layer names, encoder weights) to check T, P and Q against each other."""
    from memprint.embedding_files import read_embeddings

    if path.endswith((".h5", ".hdf5")):
        emb = read_embeddings(path, [layer] if layer else None)
        identity = {
            "layers": json.loads(emb.attrs["layer_names"]),
            "weights": emb.attrs.get("weights_sha256"),
            "encoder": emb.attrs.get("encoder_spec"),
        }
        return emb.layer_names, emb.layers, identity
    if Path(path).is_dir():
        raise MemprintError(f"{path}: a folder, not an embedding file; give an .npy array or a memprint .h5")
    if not Path(path).exists():
        raise MemprintError(f"{path}: file not found")
    if not path.endswith(".npy"):
        raise MemprintError(
            f"{path}: not an .npy or .h5 file; save embeddings with np.save(path, array) (one "
            "(N, D) or (L, N, D) array) or give a memprint embedding .h5"
        )
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise MemprintError(f"{path}: not a readable numeric .npy ({err}); rewrite it with np.save") from None
    if array.dtype.kind not in "fiu":
        raise MemprintError(f"{path}: holds {array.dtype} values, not numbers; save a float array")
    if array.ndim == 2:
        if layer is not None:
            raise MemprintError(
                f"--layer {layer}: {path} is one (N, D) layer; --layer picks from (L, N, D) arrays or .h5 files"
            )
        return ["0"], [array], {}
    if array.ndim == 3:
        if layer is None:
            return [str(i) for i in range(len(array))], list(array), {}
        if not layer.isdigit() or int(layer) >= len(array):
            raise MemprintError(
                f"--layer {layer}: {path} holds layers 0..{len(array) - 1}; give an index in that range"
            )
        return [layer], [array[int(layer)]], {}
    raise MemprintError(f"{path}: expected an (N, D) or (L, N, D) array, got shape {array.shape}")


def check_rows(path: str, layer: str, matrix: np.ndarray, train_path: str, width: int) -> None:
    """One layer of one input file: rows present, all finite, as wide as the training embeddings."""
    where = f" (layer {layer})" if layer != "0" else ""
    if len(matrix) == 0:
        raise MemprintError(f"{path}{where}: no rows; give at least one embedding")
    if not np.isfinite(matrix).all():
        raise MemprintError(f"{path}{where}: contains NaN or infinite values; recompute or drop those rows")
    if np.abs(matrix).max() > FLOAT16_MAX:
        raise MemprintError(
            f"{path}{where}: values up to {np.abs(matrix).max():.3g}, beyond any encoder's scale (float16 ends at "
            f"{FLOAT16_MAX:g}); give the encoder's embeddings as they are, not rescaled"
        )
    if matrix.shape[1] != width:
        raise MemprintError(
            f"{path}{where}: {matrix.shape[1]} dimensions, {train_path} has {width}; embed all three sets with one "
            "encoder"
        )
    if len(matrix) > 1 and (matrix == matrix[0]).all():
        raise MemprintError(f"{path}{where}: every row is the same vector; nothing can be compared, recompute it")


def load_three(
    train_path: str, test_path: str, generated_path: str, layer: str | None
) -> tuple[list[str], list, list, list]:
    """T, P and Q, which must come from one encoder (same layers and weights) when they are embedding files."""
    (names, train, t_id), (_, test, p_id), (_, generated, q_id) = (
        load_matrix(p, layer) for p in (train_path, test_path, generated_path)
    )
    embedded = [p.endswith((".h5", ".hdf5")) for p in (train_path, test_path, generated_path)]
    if any(embedded) and not all(embedded):
        raise MemprintError(
            f"{train_path}, {test_path}, {generated_path}: memprint embedding files mixed with .npy arrays, so the "
            "one-encoder check cannot run; give all three as .h5 files (memprint embed) or all as .npy"
        )
    if not (len(train) == len(test) == len(generated)):
        raise MemprintError(
            f"layer counts differ: {train_path} {len(train)}, {test_path} {len(test)}, {generated_path} "
            f"{len(generated)}; embed the three sets with one encoder"
        )
    for path, layers in ((train_path, train), (test_path, test), (generated_path, generated)):
        for name, (matrix, reference) in zip(names, zip(layers, train)):
            check_rows(path, name, matrix, train_path, reference.shape[1])
    for what, path, identity in (("test", test_path, p_id), ("generated", generated_path, q_id)):
        if t_id and identity and (identity["layers"] != t_id["layers"] or identity["weights"] != t_id["weights"]):
            raise MemprintError(
                f"{path} and {train_path} come from different encoders (layers or weights SHA-256 "
                f"differ); embed the {what} set with the training set's encoder"
            )
    shared = overlapping_rows(train[0], test[0])
    if shared:
        raise MemprintError(
            f"{shared} of the {len(test[0])} rows of {test_path} (P) are also rows of {train_path} (T): P must be "
            "held out from T, or C_T and the copy finder read P's copies as normal; give test images not in T"
        )
    return names, train, test, generated


def overlapping_rows(train: np.ndarray, test: np.ndarray) -> int:
    """How many rows of ``test`` equal a row of ``train`` exactly (the same image embedded by the same encoder)."""
    seen = {row.tobytes() for row in np.ascontiguousarray(train, np.float32)}
    return sum(row.tobytes() in seen for row in np.ascontiguousarray(test, np.float32))
