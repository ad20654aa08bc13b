"""A registry of encoders whose every layer is read in ONE forward pass (forward hooks on the blocks).

One small class per model family adds an encoder (as in torch-fidelity's feature-extractor registry):

* ``trained_vit``: a small timm ViT that the pipeline trains itself on the training set (no download);
* ``timm``: a timm Vision Transformer by name (``vit_base_patch16_224``, DeiT, DINO ...);
* ``open_clip``: the visual tower of an open_clip model (``ViT-B-32`` ...).

Layers: ``patch_embed`` (layer 0: the mean of the patch tokens entering the first block; the CLS token there is
the same for every image and carries no image information), then ``blocks.00`` ... : each block's output token
pooled as ``cls`` (default) or ``mean`` of the patch tokens, before the final norm.

Weights: a state-dict file (made by the pipeline's training or download rule, or the user's own), or random
initialisation when ``weights: random`` is asked for explicitly (a warning says so, and so does every output).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from memprint import MemprintError
from memprint.io import sha256_file

POOLINGS = ("cls", "mean")


@dataclass
class Preprocess:
    """How uint8 NHWC images become model input: RGB, bilinear antialiased resize, then mean/std."""

    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __call__(self, images_uint8: torch.Tensor) -> torch.Tensor:
        x = images_uint8.permute(0, 3, 1, 2).float().div_(255.0)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if x.shape[-1] != self.input_size or x.shape[-2] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", antialias=True,
                              align_corners=False)
        mean = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def describe(self) -> dict:
        return {"input_size": self.input_size, "mean": list(self.mean), "std": list(self.std),
                "resize": "bilinear, antialias", "grayscale": "replicated to 3 channels"}


class Encoder:
    """A transformer whose ``blocks`` are hooked; subclasses say how to build it and where its blocks are."""

    kinds: dict[str, type["Encoder"]] = {}
    kind: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Encoder.kinds[cls.kind] = cls

    def __init__(self, model: torch.nn.Module, blocks, preprocess: Preprocess, num_prefix_tokens: int,
                 pooling: str, identity: dict, batch_first: bool = True):
        if pooling not in POOLINGS:
            raise MemprintError(f"pooling {pooling!r} is unknown; use one of {POOLINGS}")
        self.model = model.eval()
        self.blocks = list(blocks)
        self.preprocess = preprocess
        self.num_prefix_tokens = num_prefix_tokens
        self.pooling = pooling
        self.identity = identity
        self.batch_first = batch_first
        self.layer_names = ["patch_embed"] + [f"blocks.{i:02d}" for i in range(len(self.blocks))]

    # -- building
    @classmethod
    def build(cls, spec: dict) -> torch.nn.Module:
        raise NotImplementedError

    @classmethod
    def hub_state_dict(cls, spec: dict) -> dict:
        """Download the pretrained weights (only the download rule calls this; compute nodes may be offline)."""
        raise MemprintError(f"encoder kind {cls.kind!r} has no hub weights; give a weights file")

    # -- one forward pass, every layer
    def _tokens(self, output) -> torch.Tensor:
        tokens = output[0] if isinstance(output, tuple) else output
        return tokens if self.batch_first else tokens.transpose(0, 1)

    def _pool(self, tokens: torch.Tensor, layer0: bool) -> torch.Tensor:
        if layer0 or self.pooling == "mean":
            return tokens[:, self.num_prefix_tokens:].mean(dim=1)
        return tokens[:, 0]

    @torch.inference_mode()
    def layer_embeddings(self, images_uint8: torch.Tensor) -> list[torch.Tensor]:
        """(B, H, W, C) uint8 on the model's device -> one (B, D) float tensor per layer, in one pass."""
        captured: list[torch.Tensor] = []
        handles = [self.blocks[0].register_forward_pre_hook(
            lambda _m, args: captured.append(self._pool(self._tokens(args[0]), layer0=True)))]
        handles += [block.register_forward_hook(
            lambda _m, _a, out: captured.append(self._pool(self._tokens(out), layer0=False))) for block in self.blocks]
        try:
            self.forward(self.preprocess(images_uint8))
        finally:
            for handle in handles:
                handle.remove()
        if len(captured) != len(self.layer_names):
            raise RuntimeError(f"captured {len(captured)} layers, expected {len(self.layer_names)}")
        return [c.float() for c in captured]

    def forward(self, x: torch.Tensor):
        return self.model(x)


def _load_state_dict(model: torch.nn.Module, path: str | Path, what: str) -> None:
    path = Path(path)
    if not path.exists():
        raise MemprintError(f"{what}: weights file {path} not found; fix the path or set weights: random")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise MemprintError(f"{what}: {path} is not a readable torch state dict ({err})") from err
    state = payload.get("state_dict", payload) if isinstance(payload, dict) else payload
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, AttributeError) as err:
        first = str(err).splitlines()[0:2]
        raise MemprintError(f"{what}: weights file {path} does not fit the architecture ({' '.join(first)}); "
                            "check the model name or the file") from err


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
    def wrap(cls, model, spec: dict, identity: dict) -> "Encoder":
        if not hasattr(model, "blocks") or not hasattr(model, "patch_embed"):
            raise MemprintError(f"timm model {spec.get('name', model.__class__.__name__)} is not a plain ViT "
                                "(no .blocks/.patch_embed); use a ViT, DeiT or DINO model")
        cfg = getattr(model, "pretrained_cfg", {}) or {}
        size = spec.get("input_size") or model.patch_embed.img_size[0]
        preprocess = Preprocess(int(size), tuple(cfg.get("mean", (0.5, 0.5, 0.5))), tuple(cfg.get("std", (0.5, 0.5, 0.5))))
        return cls(model, model.blocks, preprocess, model.num_prefix_tokens, spec.get("pooling", "cls"), identity)

    def forward(self, x):
        return self.model.forward_features(x)


class TrainedViT(TimmViT):
    """A small timm ViT trained by the pipeline on the training set (``memprint.train``)."""

    kind = "trained_vit"

    @classmethod
    def build(cls, spec: dict) -> torch.nn.Module:
        from timm.models.vision_transformer import VisionTransformer

        return VisionTransformer(img_size=spec["image_size"], patch_size=spec["patch"], in_chans=3,
                                 num_classes=spec.get("classes", 10), embed_dim=spec["width"], depth=spec["depth"],
                                 num_heads=spec["heads"], mlp_ratio=2.0, global_pool="token")

    @classmethod
    def wrap(cls, model, spec: dict, identity: dict) -> "Encoder":
        preprocess = Preprocess(int(spec["image_size"]), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        return cls(model, model.blocks, preprocess, model.num_prefix_tokens, spec.get("pooling", "cls"), identity)


class OpenClipViT(Encoder):
    kind = "open_clip"

    @classmethod
    def build(cls, spec: dict) -> torch.nn.Module:
        import open_clip

        try:
            return open_clip.create_model(spec["name"], pretrained=None).visual
        except RuntimeError as err:
            raise MemprintError(f"open_clip has no model {spec['name']!r} ({err}); see open_clip.list_models()") from err

    @classmethod
    def hub_state_dict(cls, spec: dict) -> dict:
        import open_clip

        return open_clip.create_model(spec["name"], pretrained=spec.get("pretrained", "openai")).visual.state_dict()

    @classmethod
    def wrap(cls, model, spec: dict, identity: dict) -> "Encoder":
        import open_clip

        cfg = open_clip.get_pretrained_cfg(spec["name"], spec.get("pretrained", "")) or {}
        size = model.image_size[0] if isinstance(model.image_size, tuple) else model.image_size
        preprocess = Preprocess(int(size), tuple(cfg.get("mean", open_clip.OPENAI_DATASET_MEAN)),
                                tuple(cfg.get("std", open_clip.OPENAI_DATASET_STD)))
        transformer = model.transformer
        return cls(model, transformer.resblocks, preprocess, 1, spec.get("pooling", "cls"), identity,
                   batch_first=getattr(transformer, "batch_first", True))


def load_encoder(spec: dict, weights: str | Path | None, device: torch.device | str = "cpu") -> Encoder:
    """Build the encoder of config entry ``spec``; ``weights`` is a state-dict file, or None for random init."""
    kind = spec.get("kind")
    if kind not in Encoder.kinds:
        raise MemprintError(f"encoder kind {kind!r} is unknown; use one of {sorted(Encoder.kinds)}")
    cls = Encoder.kinds[kind]
    model = cls.build(spec)
    if weights is None:
        if spec.get("weights") != "random":
            raise MemprintError(f"encoder {spec.get('name', kind)}: no weights file; set weights: random to use "
                                "random initialisation on purpose")
        warnings.warn(f"encoder {spec.get('name', kind)} uses RANDOM weights (asked for with weights: random)",
                      stacklevel=2)
        identity = {"weights_source": "random init", "weights_sha256": ""}
    else:
        _load_state_dict(model, weights, f"encoder {spec.get('name', kind)}")
        identity = {"weights_source": weights_source(weights), "weights_sha256": sha256_file(weights)}
    identity = {"encoder_kind": kind, "encoder_spec": spec, **identity}
    return cls.wrap(model.to(device), spec, identity)


def weights_source(path: str | Path) -> str:
    """Where a weights file came from: the pipeline records it inside the files it makes, else the path."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return f"file:{Path(path).resolve()}"
    if isinstance(payload, dict) and "memprint_source" in payload:
        return str(payload["memprint_source"])
    return f"file:{Path(path).resolve()}"


def save_weights(path: str | Path, state_dict: dict, source: str) -> None:
    """Save a state dict with a note of where it came from, atomically."""
    from memprint.io import atomic_path

    with atomic_path(path) as tmp:
        torch.save({"state_dict": state_dict, "memprint_source": source}, tmp)


def embed_images(encoder: Encoder, images: np.ndarray, batch_size: int, device: torch.device,
                 start: int = 0, on_batch=None, progress: bool = True):
    """Run ``images[start:]`` through ``encoder`` in batches; ``on_batch(first_row, per_layer_arrays)``.

    bf16 autocast on CUDA, float32 on CPU. Batches run in order, so a caller can checkpoint after each.
    """
    from tqdm import tqdm

    use_bf16 = device.type == "cuda"
    bar = tqdm(total=len(images), initial=start, unit="img", disable=not progress, mininterval=5)
    for first in range(start, len(images), batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(images[first:first + batch_size])).to(device, non_blocking=True)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
            layers = encoder.layer_embeddings(batch)
        on_batch(first, [layer.cpu().numpy() for layer in layers])
        bar.update(len(batch))
    bar.close()
