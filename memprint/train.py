"""Train the pipeline's own small ViT encoder on the training set, so the default needs no download.

A plain supervised classifier (AdamW, cosine schedule, +-1 pixel random shifts), seeded: on the same machine
and thread count the weights are bit-identical between runs.
"""

from __future__ import annotations

import logging
import math

import torch
import torch.nn.functional as F

from memprint import MemprintError
from memprint.encoders.small_vit import TrainedViT
from memprint.io import ImageSet

log = logging.getLogger(__name__)


def _random_shift(x: torch.Tensor, generator: torch.Generator, pixels: int = 1) -> torch.Tensor:
    padded = F.pad(x, (pixels,) * 4, mode="replicate")
    dy, dx = torch.randint(0, 2 * pixels + 1, (2,), generator=generator).tolist()
    return padded[..., dy : dy + x.shape[-2], dx : dx + x.shape[-1]]


def _accuracy(model, encoder, imageset: ImageSet, device) -> float:
    images = torch.as_tensor(imageset.images)
    with torch.no_grad():
        preds = torch.cat(
            [
                model(encoder.preprocess(images[i : i + 512].to(device))).argmax(1).cpu()
                for i in range(0, len(images), 512)
            ]
        )
    return float((preds == torch.as_tensor(imageset.labels)).float().mean())


def train_vit(spec: dict, train: ImageSet, test: ImageSet, device: torch.device) -> tuple[dict, dict]:
    """Train ``TrainedViT`` described by ``spec`` on ``train``; return (state dict, summary with accuracies)."""
    labels = torch.as_tensor(train.labels)
    if (labels < 0).any() or labels.max() >= spec.get("classes", 10):
        raise MemprintError(
            f"trained_vit needs labels in 0..{spec.get('classes', 10) - 1} on the training set; "
            "set the encoder's classes or use a labelled training set"
        )
    torch.manual_seed(spec["seed"])
    model = TrainedViT.build(spec).to(device)
    encoder = TrainedViT.wrap(model, spec, {})
    images = torch.as_tensor(train.images)
    opt = torch.optim.AdamW(model.parameters(), lr=spec["lr"], weight_decay=0.05)
    steps_per_epoch = math.ceil(len(images) / spec["batch_size"])
    total = spec["epochs"] * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    gen = torch.Generator().manual_seed(spec["seed"])
    model.train()
    for epoch in range(spec["epochs"]):
        order = torch.randperm(len(images), generator=gen)
        correct, loss_sum = 0, 0.0
        for step in range(steps_per_epoch):
            idx = order[step * spec["batch_size"] : (step + 1) * spec["batch_size"]]
            x = _random_shift(encoder.preprocess(images[idx].to(device)), gen)
            y = labels[idx].to(device)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y).sum().item()
        log.info(
            "epoch %d/%d loss %.4f train acc %.3f",
            epoch + 1,
            spec["epochs"],
            loss_sum / len(images),
            correct / len(images),
        )
    model.eval()
    summary = {
        "train_accuracy": _accuracy(model, encoder, train, device),
        "test_accuracy": _accuracy(model, encoder, test, device),
        "final_loss": loss_sum / len(images),
        "epochs": spec["epochs"],
        "seed": spec["seed"],
    }
    return {k: v.cpu() for k, v in model.state_dict().items()}, summary
