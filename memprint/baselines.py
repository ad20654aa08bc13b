"""The fingerprinting baselines of Bai et al. (2024), Table 1.

Statistics: a set's per-channel pixel mean and standard deviation and its Fréchet distance to the test set P,
matched like C_T-layer curves. Classifiers: one network trained on single reference images labelled by
architecture, a target set's architecture is the majority vote of its images' predictions (appendix C: a vanilla
CNN of 3 conv + 2 FC layers, Adam 1e-3, 50 epochs; ResNet-50 and ViT-base fine-tuned at 224 px, Adam 1e-3 / 1e-2,
50 / 30 epochs; batch 32).
"""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from memprint import MemprintError
from memprint.runtime import autocast

log = logging.getLogger(__name__)

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
TORCHVISION_HEADS = {"resnet50": "fc", "resnet18": "fc", "vit_b_16": "heads.head"}


def set_statistics(images_uint8: np.ndarray, features: np.ndarray, reference_features: np.ndarray) -> dict:
    """Per-channel mean and std of the pixels (0..1) and the Fréchet distance of ``features`` to the reference's."""
    from memprint.fid import frechet_distance

    pixels = images_uint8.reshape(-1, images_uint8.shape[-1]).astype(np.float64) / 255.0
    stats = {f"mean_c{c}": v for c, v in enumerate(pixels.mean(0))}
    stats.update({f"std_c{c}": v for c, v in enumerate(pixels.std(0))})
    stats["fid"] = frechet_distance(features.astype(np.float64), reference_features.astype(np.float64))
    return stats


class VanillaCNN(nn.Module):
    """Appendix C's vanilla CNN: three conv blocks (conv, ReLU, 2x2 max-pool) and two fully connected layers."""

    def __init__(self, in_channels: int, classes: int, image_size: int, width: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            *[
                layer
                for c_in, c_out in ((in_channels, width), (width, 2 * width), (2 * width, 4 * width))
                for layer in (nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True))
            ]
        )
        side = image_size
        for _ in range(3):
            side = -(-side // 2)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(4 * width * side * side, 128), nn.ReLU(), nn.Linear(128, classes)
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def build_classifier(spec: dict, classes: int, in_channels: int, weights: str | None = None) -> tuple[nn.Module, str]:
    """The configured network with a ``classes``-way head, and which weights it started from (``weights``: a
    state-dict file for torchvision models, e.g. the one ``fetch_classifier_weights`` saved; None: random init)."""
    if spec["kind"] == "cnn":
        return VanillaCNN(in_channels, classes, spec["image_size"]), "random init (trained from scratch)"
    if spec["kind"] != "torchvision":
        raise MemprintError(f"classifier kind {spec['kind']!r} is unknown; use cnn or torchvision")
    import torchvision

    arch = spec["arch"]
    if arch not in TORCHVISION_HEADS:
        raise MemprintError(f"classifier arch {arch!r} is not supported; use one of {sorted(TORCHVISION_HEADS)}")
    if arch.startswith("vit") and spec["image_size"] != 224:
        raise MemprintError(f"classifier {arch} takes 224 px images (its position embeddings); set image_size: 224")
    model = torchvision.models.get_model(arch, weights=None)
    used = "random init"
    if weights is not None:
        from memprint.checkpoints import load_checkpoint
        from memprint.io import sha256_file

        state = load_checkpoint(weights, f"classifier {arch}")
        try:
            model.load_state_dict(state)
        except RuntimeError as err:
            raise MemprintError(
                f"classifier weights {weights} do not fit torchvision {arch}: {str(err).splitlines()[0]}"
            ) from err
        used = f"{weights} (sha256 {sha256_file(weights)})"
    head_path = TORCHVISION_HEADS[arch].split(".")
    parent = model
    for name in head_path[:-1]:
        parent = getattr(parent, name)
    old = getattr(parent, head_path[-1])
    setattr(parent, head_path[-1], nn.Linear(old.in_features, classes))
    return model, used


def pretrained_state_dict(arch: str) -> dict:
    """torchvision's DEFAULT (ImageNet) weights of ``arch``, downloaded (run where there is internet)."""
    import torchvision

    if arch not in TORCHVISION_HEADS:
        raise MemprintError(f"classifier arch {arch!r} is not supported; use one of {sorted(TORCHVISION_HEADS)}")
    return torchvision.models.get_model_weights(arch).DEFAULT.get_state_dict(progress=True)


def _prepare(images_uint8: np.ndarray, spec: dict, device: torch.device) -> torch.Tensor:
    """uint8 NHWC -> float NCHW at the classifier's size; 3 channels and ImageNet statistics for torchvision."""
    x = torch.from_numpy(images_uint8).to(device).permute(0, 3, 1, 2).float() / 255.0
    if spec["kind"] == "torchvision":
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-1] != spec["image_size"]:
        x = F.interpolate(
            x,
            size=(spec["image_size"],) * 2,
            mode="bilinear",
            align_corners=False,
            antialias=x.shape[-1] > spec["image_size"],
        )
    if spec["kind"] == "torchvision":
        mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
        return (x - mean) / std
    return (x - 0.5) / 0.5


def train_classifier(
    spec: dict,
    images: np.ndarray,
    labels: np.ndarray,
    classes: int,
    device: torch.device,
    seed: int,
    batch_size: int = 32,
    weights: str | None = None,
) -> tuple[nn.Module, str]:
    """Cross-entropy training with Adam for ``spec['epochs']`` epochs on single images (labels: architectures)."""
    torch.manual_seed(seed)
    model, weights_used = build_classifier(spec, classes, images.shape[-1], weights)
    model = model.to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    order_rng = np.random.default_rng(seed)
    targets = torch.from_numpy(labels.astype(np.int64)).to(device)
    for epoch in tqdm(range(spec["epochs"]), desc="classifier epochs", leave=False):
        order = order_rng.permutation(len(images))
        total = torch.zeros((), device=device)
        for start in range(0, len(images), batch_size):
            idx = order[start : start + batch_size]
            with autocast(device):
                loss = F.cross_entropy(model(_prepare(images[idx], spec, device)), targets[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += loss.detach()
        log.info("epoch %d: mean loss %.4f", epoch + 1, total.item() / -(-len(images) // batch_size))
    return model.eval(), weights_used


@torch.no_grad()
def majority_vote(
    model: nn.Module, images: np.ndarray, spec: dict, device: torch.device, batch_size: int = 256
) -> tuple[int, float]:
    """The most common predicted class over a target set's images, and the share of images that voted for it."""
    predictions = []
    for start in range(0, len(images), batch_size):
        with autocast(device):
            logits = model(_prepare(images[start : start + batch_size], spec, device))
        predictions += logits.argmax(1).tolist()
    label, votes = Counter(predictions).most_common(1)[0]
    return int(label), votes / len(predictions)
