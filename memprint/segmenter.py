"""The paper's weakly supervised segmenter (Bai et al. 2024, appendix A): a ResNet-18 whose first conv suits 32x32
images, whose final layers become bilinear upsampling, a 10-channel 1x1 classification conv and a second
upsampling to the input size. Trained from image labels only: the class maps are averaged into image logits
and fit with BCEWithLogits (SGD lr 0.05, momentum 0.9, weight decay 1e-4, cosine schedule to 0.001).

A mask is the label's class map at the image's size, min-max normalised per image and thresholded (default
0.5). The network sees images resized to ``input_size`` (32 for CIFAR-10, as in the paper).
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from memprint import MemprintError
from memprint.encoders import Preprocess
from memprint.io import ImageSet

log = logging.getLogger(__name__)
PREPROCESS_MEAN, PREPROCESS_STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)


class WeakSegmenter(nn.Module):
    def __init__(self, classes: int = 10, init_state: dict | None = None):
        super().__init__()
        import torchvision

        resnet = torchvision.models.resnet18(weights=None)
        if init_state is not None:
            resnet.load_state_dict(init_state)
        resnet.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)  # 32x32 inputs
        self.trunk = nn.Sequential(
            resnet.conv1, resnet.bn1, resnet.relu, resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4
        )
        self.classifier = nn.Conv2d(512, classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-class logit maps at input resolution, (B, classes, H, W)."""
        features = F.interpolate(self.trunk(x), scale_factor=2, mode="bilinear", align_corners=False)
        return F.interpolate(self.classifier(features), size=x.shape[-2:], mode="bilinear", align_corners=False)


def _preprocess(images: np.ndarray, device, input_size: int) -> torch.Tensor:
    return Preprocess(input_size, PREPROCESS_MEAN, PREPROCESS_STD)(
        torch.from_numpy(np.ascontiguousarray(images)).to(device)
    )


def train_segmenter(train: ImageSet, spec: dict, device: torch.device, init_state: dict | None = None):
    """Train on ``train``'s labels; returns the model's state dict."""
    labels = torch.as_tensor(train.labels)
    classes = int(spec.get("classes", 10))
    if (labels < 0).any() or labels.max() >= classes:
        raise MemprintError(f"the segmenter needs labels in 0..{classes - 1} on its training images")
    torch.manual_seed(spec["seed"])
    model = WeakSegmenter(classes, init_state).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=spec["lr"], momentum=0.9, weight_decay=1e-4)
    steps = spec["epochs"] * math.ceil(len(train) / spec["batch_size"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=spec["min_lr"])
    gen = torch.Generator().manual_seed(spec["seed"])
    targets = F.one_hot(labels, classes).float()
    model.train()
    for epoch in range(spec["epochs"]):
        order = torch.randperm(len(train), generator=gen)
        total = 0.0
        for start in range(0, len(order), spec["batch_size"]):
            idx = order[start : start + spec["batch_size"]].numpy()
            x = _preprocess(train.images[idx], device, spec["input_size"])
            if torch.rand(1, generator=gen).item() < 0.5:
                x = x.flip(-1)
            loss = F.binary_cross_entropy_with_logits(model(x).mean(dim=(2, 3)), targets[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        log.info("segmenter epoch %d/%d loss %.4f", epoch + 1, spec["epochs"], total / len(train))
    return {k: v.cpu() for k, v in model.eval().state_dict().items()}


@torch.no_grad()
def predict_masks(
    model: WeakSegmenter,
    images: np.ndarray,
    labels: np.ndarray | None,
    threshold: float,
    device: torch.device,
    input_size: int,
    batch_size: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Binary foreground masks (N, H, W) from the class map of ``labels`` (or of the predicted class)."""
    masks, predictions = [], []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        maps = F.interpolate(
            model(_preprocess(batch, device, input_size)), size=batch.shape[1:3], mode="bilinear", align_corners=False
        )
        predicted = maps.mean(dim=(2, 3)).argmax(1)
        chosen = predicted if labels is None else torch.as_tensor(labels[start : start + batch_size], device=device)
        cam = maps[torch.arange(len(maps)), chosen]
        low = cam.amin(dim=(1, 2), keepdim=True)
        high = cam.amax(dim=(1, 2), keepdim=True)
        masks.append(((cam - low) / (high - low + 1e-6) > threshold).to(torch.uint8).cpu().numpy())
        predictions.append(predicted.cpu().numpy())
    return np.concatenate(masks), np.concatenate(predictions)


def mask_quality(
    model: WeakSegmenter, held_out: ImageSet, threshold: float, device, seed: int, input_size: int
) -> dict:
    """CIFAR-10 has no mask ground truth, so quality is measured by what the masks keep: the segmenter's own
    accuracy on the held-out images, on their foreground pasted on noise, and on their background alone (noise
    where the mask is). A good mask keeps the class in the foreground and removes it from the background."""
    from memprint.augment import composite, gaussian_backgrounds

    rng = np.random.default_rng(seed)
    masks, predicted = predict_masks(model, held_out.images, held_out.labels, threshold, device, input_size)
    noise = gaussian_backgrounds(held_out.images.shape, rng)
    foreground_only = composite(held_out.images, masks, noise)
    background_only = composite(held_out.images, 1 - masks, noise)

    def accuracy(images):
        return float((predict_masks(model, images, None, threshold, device, input_size)[1] == held_out.labels).mean())

    return {
        "held_out_images": len(held_out),
        "accuracy": float((predicted == held_out.labels).mean()),
        "accuracy_foreground_on_noise": accuracy(foreground_only),
        "accuracy_background_only": accuracy(background_only),
        "mean_foreground_fraction": float(masks.mean()),
        "threshold": threshold,
    }
