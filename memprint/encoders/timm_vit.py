"""timm Vision Transformers by name (ViT, DeiT, DINO ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memprint import MemprintError
from memprint.encoders.base import Encoder, Preprocess

if TYPE_CHECKING:
    import torch


class TimmViT(Encoder):
    kind = "timm"

    @classmethod
    def build(cls, spec: dict) -> torch.nn.Module:
        import timm

        try:
            return timm.create_model(spec["name"], pretrained=False, num_classes=0)
        except RuntimeError as err:
            raise MemprintError(f"timm has no model {spec['name']!r} ({err}); see timm.list_models()") from err

    @classmethod
    def hub_state_dict(cls, spec: dict) -> dict:
        import timm

        return timm.create_model(spec["name"], pretrained=True, num_classes=0).state_dict()

    @classmethod
    def wrap(cls, model, spec: dict, identity: dict) -> Encoder:
        if not hasattr(model, "blocks") or not hasattr(model, "patch_embed"):
            raise MemprintError(
                f"timm model {spec.get('name', model.__class__.__name__)} is not a plain ViT "
                "(no .blocks/.patch_embed); use a ViT, DeiT or DINO model"
            )
        cfg = getattr(model, "pretrained_cfg", {}) or {}
        size = spec.get("input_size") or model.patch_embed.img_size[0]
        preprocess = Preprocess(
            int(size), tuple(cfg.get("mean", (0.5, 0.5, 0.5))), tuple(cfg.get("std", (0.5, 0.5, 0.5)))
        )
        return cls(model, model.blocks, preprocess, model.num_prefix_tokens, spec.get("pooling", "cls"), identity)

    def forward(self, x):
        return self.model.forward_features(x)
