"""The encoder registry's base: how images become model input, how a model's every layer is captured in ONE
forward pass (hooks on its blocks), and how weights are loaded and recorded."""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from memprint import MemprintError
from memprint.io import sha256_file

POOLINGS = ("cls", "mean")
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

if TYPE_CHECKING:
    import torch


def inference_mode(method):
    """``torch.inference_mode`` as a decorator that imports torch only when called (the registry stays light)."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        import torch

        with torch.inference_mode():
            return method(*args, **kwargs)

    return wrapper


@dataclass
class Preprocess:
    """How uint8 NHWC images become model input: RGB, bilinear antialiased resize, then mean/std."""

    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __call__(self, images_uint8: torch.Tensor) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        x = images_uint8.permute(0, 3, 1, 2).float().div_(255.0)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if x.shape[-1] != self.input_size or x.shape[-2] != self.input_size:
            x = F.interpolate(
                x, size=(self.input_size, self.input_size), mode="bilinear", antialias=True, align_corners=False
            )
        mean = torch.tensor(self.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def describe(self) -> dict:
        return {
            "input_size": self.input_size,
            "mean": list(self.mean),
            "std": list(self.std),
            "resize": "bilinear, antialias",
            "grayscale": "replicated to 3 channels",
        }


class Encoder:
    """A transformer whose ``blocks`` are hooked; subclasses say how to build it and where its blocks are."""

    kinds: ClassVar[dict[str, type[Encoder]]] = {}
    kind: ClassVar[str] = ""
    schema: ClassVar[dict | None] = None  # a kind defined outside memprint carries its schema block here
    trained_here: ClassVar[bool] = False  # the pipeline trains it on T (train_encoder) instead of loading weights

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Encoder.kinds[cls.kind] = cls

    def __init__(
        self,
        model: torch.nn.Module,
        blocks,
        preprocess: Preprocess,
        num_prefix_tokens: int,
        pooling: str,
        identity: dict,
        batch_first: bool = True,
    ):
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
    def load_model(cls, spec: dict, weights: str | Path | None) -> tuple[torch.nn.Module, dict]:
        """The architecture with its weights (a state-dict file), or randomly initialised when asked for."""
        model = cls.build(spec)
        if weights is None:
            return model, _random_init_identity(spec)
        _load_state_dict(model, weights, f"encoder {spec.get('name', cls.kind)}")
        return model, {"weights_source": weights_source(weights), "weights_sha256": sha256_file(weights)}

    @classmethod
    def hub_state_dict(cls, spec: dict) -> dict:
        """Download the pretrained weights (only the download rule calls this; compute nodes may be offline)."""
        raise MemprintError(f"encoder kind {cls.kind!r} has no hub weights; give a weights file")

    @classmethod
    def check(cls, spec: dict, key: str) -> None:
        """Checks before any job: a weights file or folder the config names must exist."""
        weights = spec.get("weights")
        if not cls.trained_here and weights not in ("pretrained", "random") and not Path(weights).expanduser().exists():
            raise MemprintError(f"config error at {key}.weights: file or folder {weights} not found; fix the path")

    def compile_blocks(self) -> None:
        """``torch.compile`` each block's forward. The hooks that capture every layer run outside the compiled
        code (in the module call around it), so capturing them triggers no recompilation."""
        import torch

        for block in self.blocks:
            block.forward = torch.compile(block.forward)

    # -- one forward pass, every layer
    def _tokens(self, output) -> torch.Tensor:
        tokens = output[0] if isinstance(output, tuple) else output
        return tokens if self.batch_first else tokens.transpose(0, 1)

    def _pool(self, tokens: torch.Tensor, layer0: bool) -> torch.Tensor:
        if layer0 or self.pooling == "mean":
            return tokens[:, self.num_prefix_tokens :].mean(dim=1)
        return tokens[:, 0]

    @inference_mode
    def layer_embeddings(self, images_uint8: torch.Tensor) -> list[torch.Tensor]:
        """(B, H, W, C) uint8 on the model's device -> one (B, D) float tensor per layer, in one pass."""

        captured: list[torch.Tensor] = []
        handles = [
            self.blocks[0].register_forward_pre_hook(
                lambda _m, args: captured.append(self._pool(self._tokens(args[0]), layer0=True))
            )
        ]
        handles += [
            block.register_forward_hook(
                lambda _m, _a, out: captured.append(self._pool(self._tokens(out), layer0=False))
            )
            for block in self.blocks
        ]
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
    from memprint.checkpoints import load_checkpoint, load_into

    path = Path(path)
    if not path.exists():
        raise MemprintError(f"{what}: weights file {path} not found; fix the path or set weights: random")
    payload = load_checkpoint(path, what)
    state = payload.get("state_dict", payload) if isinstance(payload, dict) else payload
    load_into(model, state, path, what, "check the model name or the file")


def _random_init_identity(spec: dict) -> dict:
    name = spec.get("name", spec.get("kind"))
    if spec.get("weights") != "random":
        raise MemprintError(
            f"encoder {name}: no weights file; set weights: random to use random initialisation on purpose"
        )
    warnings.warn(f"encoder {name} uses RANDOM weights (asked for with weights: random)", stacklevel=3)
    return {"weights_source": "random init", "weights_sha256": ""}


def load_encoder(spec: dict, weights: str | Path | None, device: torch.device | str = "cpu") -> Encoder:
    """Build the encoder of config entry ``spec``; ``weights`` is a state-dict file (or a Hugging Face model
    folder for ``kind: hf``), or None for random initialisation."""
    kind = spec.get("kind")
    if kind not in Encoder.kinds:
        raise MemprintError(f"encoder kind {kind!r} is unknown; use one of {sorted(Encoder.kinds)}")
    cls = Encoder.kinds[kind]
    model, identity = cls.load_model(spec, weights)
    identity = {"encoder_kind": kind, "encoder_spec": spec, **identity}
    return cls.wrap(model.eval().to(device), spec, identity)


def weights_source(path: str | Path) -> str:
    """Where a weights file came from: the pipeline records it inside the files it makes, else the path."""
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return f"file:{Path(path).resolve()}"
    if isinstance(payload, dict) and "memprint_source" in payload:
        return str(payload["memprint_source"])
    return f"file:{Path(path).resolve()}"


def save_weights(path: str | Path, state_dict: dict, source: str, **extra) -> None:
    """Save a state dict with a note of where it came from, atomically."""
    import torch

    from memprint.io import atomic_path

    with atomic_path(path) as tmp:
        torch.save({"state_dict": state_dict, "memprint_source": source, **extra}, tmp)
