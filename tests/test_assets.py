"""Real assets from ../shared/assets (skipped with a reason where they are absent, e.g. on a user's machine)."""

import numpy as np
import pytest
import torch

from memprint.ct import CTSettings, LayerReference
from memprint.datasets import load_npz
from memprint.encoders import embed_images, load_encoder
from tests.conftest import ASSETS

DINOV2 = ASSETS / "dinov2_vits14"
CIFAR = ASSETS / "cifar10"
pytestmark = pytest.mark.skipif(
    not (DINOV2.exists() and CIFAR.exists()),
    reason="shared assets absent (../shared/assets/dinov2_vits14, ../shared/assets/cifar10)",
)


def embed_all(encoder, images):
    per_batch = []
    embed_images(
        encoder, images, 100, torch.device("cpu"), on_batch=lambda _i, layers: per_batch.append(layers), progress=False
    )
    return [np.concatenate(parts) for parts in zip(*per_batch)]


def test_dinov2_asset_loads_from_its_folder_and_test_vs_train_ct_is_near_zero_at_every_layer():
    """No generator: held-out CIFAR-10 test images scored against other test images must not look like copies."""
    torch.set_num_threads(2)
    encoder = load_encoder({"kind": "hf", "name": str(DINOV2), "weights": str(DINOV2)}, DINOV2)
    assert encoder.identity["weights_source"] == f"file:{DINOV2.resolve()}" and len(encoder.layer_names) == 13
    assert encoder.preprocess.input_size == 224
    train = load_npz(CIFAR / "cifar10_train10k_uint8.npz").images[::20]  # 50 per class
    test = load_npz(CIFAR / "cifar10_test_uint8.npz").images[:400]
    t, pq = embed_all(encoder, train), embed_all(encoder, test)
    settings = CTSettings(cells=3)
    scores = [LayerReference.fit(t_l, pq_l[::2], settings).score(pq_l[1::2]).ct for t_l, pq_l in zip(t, pq)]
    print("C_T per layer, CIFAR-10 test vs train, DINOv2 asset:", np.round(scores, 2).tolist())
    assert all(abs(ct) < 2.5 for ct in scores), scores
