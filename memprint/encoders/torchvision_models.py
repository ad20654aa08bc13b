"""torchvision models by name: ViTs (``vit_b_16`` ...) and CNN stages (ResNet, Inception v3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memprint import MemprintError
from memprint.encoders.base import Encoder, Preprocess, inference_mode

if TYPE_CHECKING:
    import torch


class _TorchvisionModel:
    """Building and downloading any torchvision model by name."""

    @classmethod
    def build(cls, spec: dict) -> torch.nn.Module:
        return _torchvision_model(spec["name"])

    @classmethod
    def hub_state_dict(cls, spec: dict) -> dict:
        return _torchvision_model(spec["name"], weights="DEFAULT").state_dict()


class TorchvisionViT(_TorchvisionModel, Encoder):
    """torchvision's ``vit_b_16`` family: the blocks are ``encoder.layers``."""

    kind = "torchvision_vit"

    @classmethod
    def wrap(cls, model, spec: dict, identity: dict) -> Encoder:
        if not hasattr(model, "encoder") or not hasattr(model.encoder, "layers"):
            raise MemprintError(f"torchvision model {spec['name']} is not a ViT; use kind: torchvision_cnn")
        return cls(model, model.encoder.layers, _torchvision_preprocess(spec), 1, spec.get("pooling", "cls"), identity)


class TorchvisionCNN(_TorchvisionModel, Encoder):
    """torchvision CNNs: every stage's feature map, global-average pooled (ResNet stages, Inception blocks)."""

    kind = "torchvision_cnn"

    @classmethod
    def wrap(cls, model, spec: dict, identity: dict) -> Encoder:
        names = [n for n, _ in model.named_children()]
        if "layer4" in names:
            stages = ["maxpool", "layer1", "layer2", "layer3", "layer4"]
        elif "Mixed_7c" in names:
            stages = ["maxpool2"] + [n for n in names if n.startswith("Mixed_")]
        else:
            raise MemprintError(
                f"torchvision model {spec['name']}: stages unknown (ResNet and Inception v3 are supported)"
            )
        encoder = cls(model, [getattr(model, n) for n in stages], _torchvision_preprocess(spec), 0, "mean", identity)
        encoder.layer_names = stages
        return encoder

    @inference_mode
    def layer_embeddings(self, images_uint8: torch.Tensor) -> list[torch.Tensor]:
        captured = []
        handles = [
            stage.register_forward_hook(lambda _m, _a, out: captured.append(out.float().mean(dim=(2, 3))))
            for stage in self.blocks
        ]
        try:
            self.model(self.preprocess(images_uint8))
        finally:
            for handle in handles:
                handle.remove()
        return captured


def _torchvision_model(name: str, weights=None) -> torch.nn.Module:
    import torchvision

    try:
        kwargs = {"init_weights": False} if name == "inception_v3" and weights is None else {}
        return torchvision.models.get_model(name, weights=weights, **kwargs)
    except (ValueError, KeyError) as err:
        raise MemprintError(f"torchvision has no model {name!r}; see torchvision.models.list_models()") from err


def _torchvision_preprocess(spec: dict) -> Preprocess:
    """Input size, mean and std from the model's DEFAULT weights metadata (no download needed)."""
    import torchvision

    transforms = torchvision.models.get_model_weights(spec["name"]).DEFAULT.transforms()
    size = spec.get("input_size") or transforms.crop_size[0]
    return Preprocess(int(size), tuple(transforms.mean), tuple(transforms.std))
