"""The weakly supervised segmenter of the background swaps: training it, and using it to find foregrounds."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from memprint.checkpoints import load_checkpoint, load_into
from memprint.io import atomic_path, read_imageset, sha256_file
from memprint.runtime import resolve_device

log = logging.getLogger(__name__)


def segment_function(path: str, dev):
    """``segment(images, labels)``: binary foreground masks from a trained segmenter checkpoint."""

    from memprint.segmenter import WeakSegmenter, predict_masks

    payload = load_checkpoint(path, "segmenter", ("classes", "state_dict", "threshold", "input_size"))
    model = WeakSegmenter(payload["classes"])
    load_into(model, payload["state_dict"], path, "segmenter", "give a segmenter checkpoint the pipeline trained")
    model = model.to(dev).eval()
    return lambda images, labels: predict_masks(
        model, images, labels, payload["threshold"], dev, payload["input_size"]
    )[0]


def train_segmenter(
    spec: dict, train_path: str, test_path: str, out: str, quality_out: str, device: str = "auto"
) -> None:
    """Train the weakly supervised segmenter on T's labels and measure its masks on the held-out test set."""
    import torch

    from memprint.datasets import limited
    from memprint.segmenter import WeakSegmenter, mask_quality
    from memprint.segmenter import train_segmenter as train_weak_segmenter

    dev = resolve_device(device)
    init_state, init = None, "random init (from scratch)"
    if spec.get("init_weights"):
        import torchvision

        init_state = load_checkpoint(spec["init_weights"], "segmenter.init_weights")
        fix = "give torchvision's ResNet-18 ImageNet state dict (resnet18-f37072fd.pth) or leave init_weights out"
        load_into(
            torchvision.models.resnet18(weights=None), init_state, spec["init_weights"], "segmenter.init_weights", fix
        )
        init = f"ImageNet ResNet-18 from {spec['init_weights']} (sha256 {sha256_file(spec['init_weights'])})"
    train, test = read_imageset(train_path), read_imageset(test_path)
    train = limited(train, spec.get("train_images"), spec["seed"], "segmenter.train_images")
    state = train_weak_segmenter(train, spec, dev, init_state)
    model = WeakSegmenter(spec.get("classes", 10))
    model.load_state_dict(state)
    quality = mask_quality(model.to(dev).eval(), test, spec["threshold"], dev, spec["seed"], spec["input_size"])
    with atomic_path(out) as tmp:
        torch.save(
            {
                "state_dict": state,
                "classes": spec.get("classes", 10),
                "threshold": spec["threshold"],
                "input_size": spec["input_size"],
                "memprint_source": f"trained in pipeline, initialisation: {init}",
            },
            tmp,
        )
    with atomic_path(quality_out) as tmp:
        Path(tmp).write_text(
            json.dumps(
                {**quality, "initialisation": init, "spec": spec, "train_sha256": train.content_hash()}, indent=2
            )
        )
    log.info("segmenter mask quality: %s", quality)
