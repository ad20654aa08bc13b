"""Numeric precision: ``auto`` picks bf16 only where the hardware has bf16 units, and bf16 embeddings give the
same C_T-layer curves as float32 within their 95% intervals (on real images: scikit-learn's digits)."""

import numpy as np
import pytest
import torch

from memprint import MemprintError, runtime
from memprint.encoders import Encoder, embed_images, load_encoder, save_weights
from memprint.scores import Resampling, score
from tests.conftest import ASSETS


@pytest.fixture(autouse=True)
def _restore_precision():
    yield
    runtime.set_precision("auto")


def test_auto_resolves_by_the_hardware(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(runtime, "has_bf16_units", lambda device: False)
    assert runtime.resolve_precision("auto", cpu) == "float32"
    monkeypatch.setattr(runtime, "has_bf16_units", lambda device: True)
    assert runtime.resolve_precision("auto", cpu) == "bf16"
    assert runtime.resolve_precision("float32", cpu) == "float32"
    with pytest.raises(MemprintError, match="precision 'half' is unknown"):
        runtime.set_precision("half")


def test_autocast_follows_the_process_precision():
    x = torch.randn(4, 8)
    runtime.set_precision("bf16")
    with runtime.autocast(torch.device("cpu")):
        assert (x @ x.T).dtype == torch.bfloat16
    runtime.set_precision("float32")
    with runtime.autocast(torch.device("cpu")):
        assert (x @ x.T).dtype == torch.float32


def _digits_sets():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.rint(digits.images * (255 / 16)).astype(np.uint8)[..., None]
    train, test = train_test_split(images, test_size=0.33, random_state=0, stratify=digits.target)
    rng = np.random.default_rng(1)
    kde = np.clip(train[rng.integers(0, len(train), 600)] / 255 + rng.normal(0, 0.1, (600, 8, 8, 1)), 0, 1)
    return {"train": train, "test": test, "kde_0.1": np.rint(kde * 255).astype(np.uint8)}


def _curves(encoder, sets, precision):
    runtime.set_precision(precision)
    cpu = torch.device("cpu")
    embedded = {}
    for name, images in sets.items():
        parts = []
        embed_images(encoder, images, 256, cpu, on_batch=lambda first, layers, parts=parts: parts.append(layers))
        embedded[name] = [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
    import pandas as pd

    kind, rows = score("ct", {"kind": "ct", "cells": 5}), []
    for layer, (t, p, q) in enumerate(zip(embedded["train"], embedded["test"], embedded["kde_0.1"])):
        state, warning = kind.fit(t, p, cpu, str(layer))
        value = kind.score({**state, "warning": warning}, t, p, q, cpu, str(layer), Resampling(200, 0, "q"))
        rows.append(
            {
                "value": value.value,
                "low": np.percentile(value.replicates, 2.5),
                "high": np.percentile(value.replicates, 97.5),
            }
        )
    return pd.DataFrame(rows)


def _assert_agree(encoder, sets):
    full, half = _curves(encoder, sets, "float32"), _curves(encoder, sets, "bf16")
    inside = (half["value"] >= full["low"]) & (half["value"] <= full["high"])
    assert inside.all(), f"bf16 outside float32's 95% interval: {half['value'].round(2).tolist()} vs {full.round(2)}"
    assert not np.allclose(full["value"], half["value"], atol=0), "bf16 ran as float32: nothing differed"


def test_bf16_and_float32_curves_agree_within_their_intervals(tmp_path):
    spec = {"kind": "trained_vit", "image_size": 16, "patch": 4, "width": 64, "depth": 4, "heads": 4}
    torch.manual_seed(0)
    weights = tmp_path / "w.pt"
    save_weights(weights, Encoder.kinds["trained_vit"].build(spec).state_dict(), "test: random small ViT")
    encoder = load_encoder(spec, weights, torch.device("cpu"))
    _assert_agree(encoder, _digits_sets())


@pytest.mark.skipif(not (ASSETS / "dinov2_vits14").exists(), reason="needs ../shared/assets/dinov2_vits14")
def test_bf16_and_float32_curves_agree_on_cifar10_through_dinov2():
    from memprint.config import validate_entry
    from memprint.subsets import stratified_indices

    folder = str(ASSETS / "dinov2_vits14")
    spec = validate_entry("encoders", {"kind": "hf", "name": folder, "weights": folder, "input_size": 56}, "test")
    encoder = load_encoder(spec, folder, torch.device("cpu"))
    train = np.load(ASSETS / "cifar10" / "cifar10_train10k_uint8.npz")
    test = np.load(ASSETS / "cifar10" / "cifar10_test_uint8.npz")
    pick_t = stratified_indices(train["y"], 400, 0, "T")
    pick_p = stratified_indices(test["y"], 200, 0, "P")
    pick_q = stratified_indices(test["y"], 600, 1, "Q")
    fresh = np.setdiff1d(pick_q, pick_p)[:200]
    sets = {"train": train["x"][pick_t], "test": test["x"][pick_p], "q": test["x"][fresh]}
    sets["kde_0.1"] = sets.pop("q")
    _assert_agree(encoder, sets)
