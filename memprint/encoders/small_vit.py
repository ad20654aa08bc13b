"""The small Vision Transformer the pipeline trains itself on T (``kind: trained_vit``), so the default needs no
download. Written out here rather than taken from timm: it has no import cost in every job (timm loads
torchvision and torch._dynamo, about 3 s), and its weights do not move when timm changes its ViT. Parameter names
follow timm's ``VisionTransformer``, so its state dicts load either way.

Pre-norm blocks (LayerNorm eps 1e-6, multi-head attention with a qkv bias, a GELU MLP of ``mlp_ratio`` x width),
a class token, learned position embeddings, a final norm, and a linear head on the class token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memprint import MemprintError
from memprint.encoders.base import Encoder, Preprocess

if TYPE_CHECKING:
    import torch


def _modules():
    """The torch modules, defined on first use (this file is imported by the torch-free registry)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Attention(nn.Module):
        def __init__(self, width: int, heads: int):
            super().__init__()
            self.heads = heads
            self.qkv = nn.Linear(width, 3 * width)
            self.proj = nn.Linear(width, width)

        def forward(self, x):
            batch, tokens, width = x.shape
            q, k, v = self.qkv(x).reshape(batch, tokens, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
            return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(batch, tokens, width))

    class Mlp(nn.Module):
        def __init__(self, width: int, hidden: int):
            super().__init__()
            self.fc1, self.act, self.fc2 = nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    class Block(nn.Module):
        def __init__(self, width: int, heads: int, mlp_ratio: float):
            super().__init__()
            self.norm1, self.attn = nn.LayerNorm(width, eps=1e-6), Attention(width, heads)
            self.norm2, self.mlp = nn.LayerNorm(width, eps=1e-6), Mlp(width, int(width * mlp_ratio))

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class PatchEmbed(nn.Module):
        def __init__(self, patch: int, width: int):
            super().__init__()
            self.proj = nn.Conv2d(3, width, kernel_size=patch, stride=patch)

        def forward(self, x):
            return self.proj(x).flatten(2).transpose(1, 2)

    class SmallViT(nn.Module):
        num_prefix_tokens = 1

        def __init__(
            self, image_size: int, patch: int, width: int, depth: int, heads: int, classes: int, mlp_ratio: float = 2.0
        ):
            super().__init__()
            self.patch_embed = PatchEmbed(patch, width)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
            self.pos_embed = nn.Parameter(torch.zeros(1, (image_size // patch) ** 2 + 1, width))
            self.blocks = nn.ModuleList(Block(width, heads, mlp_ratio) for _ in range(depth))
            self.norm = nn.LayerNorm(width, eps=1e-6)
            self.head = nn.Linear(width, classes)
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
            nn.init.normal_(self.cls_token, std=1e-6)
            for module in self.modules():
                if isinstance(module, nn.Linear):
                    nn.init.trunc_normal_(module.weight, std=0.02)
                    nn.init.zeros_(module.bias)

        def tokens(self, x):
            """The class token and the patch tokens, with position embeddings: what enters the first block."""
            x = self.patch_embed(x)
            return torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1) + self.pos_embed

        def forward_features(self, x):
            x = self.tokens(x)
            for block in self.blocks:
                x = block(x)
            return self.norm(x)

        def forward(self, x):
            return self.head(self.forward_features(x)[:, 0])

    return SmallViT


class TrainedViT(Encoder):
    """The small ViT of ``memprint.train``; layers are its blocks' class tokens, as for the other ViTs."""

    kind = "trained_vit"
    trained_here = True

    @classmethod
    def check(cls, spec: dict, key: str) -> None:
        """Shapes the network cannot take, named before any job."""
        super().check(spec, key)
        if spec["image_size"] % spec["patch"]:
            raise MemprintError(
                f"config error at {key}: image_size {spec['image_size']} is not a multiple of patch {spec['patch']}; "
                "the patches must tile the image (e.g. image_size 16, patch 4)"
            )
        if spec["width"] % spec["heads"]:
            raise MemprintError(
                f"config error at {key}: width {spec['width']} is not divisible by heads {spec['heads']}; each head "
                "takes width / heads dimensions (e.g. width 32, heads 4)"
            )

    @classmethod
    def build(cls, spec: dict) -> torch.nn.Module:
        return _modules()(
            spec["image_size"], spec["patch"], spec["width"], spec["depth"], spec["heads"], spec.get("classes", 10)
        )

    @classmethod
    def wrap(cls, model, spec: dict, identity: dict) -> Encoder:
        preprocess = Preprocess(int(spec["image_size"]), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        return cls(model, model.blocks, preprocess, model.num_prefix_tokens, spec.get("pooling", "cls"), identity)

    def forward(self, x):
        return self.model.forward_features(x)
