"""The visual tower of an open_clip model (``ViT-B-32`` ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memprint import MemprintError
from memprint.encoders.base import Encoder, Preprocess

if TYPE_CHECKING:
    import torch


class OpenClipViT(Encoder):
    kind = "open_clip"

    @classmethod
    def build(cls, spec: dict) -> torch.nn.Module:
        import open_clip

        try:
            return open_clip.create_model(spec["name"], pretrained=None).visual
        except RuntimeError as err:
            raise MemprintError(
                f"open_clip has no model {spec['name']!r} ({err}); see open_clip.list_models()"
            ) from err

    @classmethod
    def hub_state_dict(cls, spec: dict) -> dict:
        import open_clip

        return open_clip.create_model(spec["name"], pretrained=spec.get("pretrained", "openai")).visual.state_dict()

    @classmethod
    def wrap(cls, model, spec: dict, identity: dict) -> Encoder:
        import open_clip

        cfg = open_clip.get_pretrained_cfg(spec["name"], spec.get("pretrained", "")) or {}
        size = model.image_size[0] if isinstance(model.image_size, tuple) else model.image_size
        preprocess = Preprocess(
            int(size),
            tuple(cfg.get("mean", open_clip.OPENAI_DATASET_MEAN)),
            tuple(cfg.get("std", open_clip.OPENAI_DATASET_STD)),
        )
        transformer = model.transformer
        return cls(
            model,
            transformer.resblocks,
            preprocess,
            1,
            spec.get("pooling", "cls"),
            identity,
            batch_first=getattr(transformer, "batch_first", True),
        )
