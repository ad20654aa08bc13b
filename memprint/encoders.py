"""A registry of encoders whose every layer is read in ONE forward pass (forward hooks on the blocks).

One small class per model family adds an encoder (as in torch-fidelity's feature-extractor registry):

* ``trained_vit``: a small timm ViT that the pipeline trains itself on the training set (no download);
* ``timm``: a timm Vision Transformer by name (``vit_base_patch16_224``, DeiT, DINO ...);
* ``open_clip``: the visual tower of an open_clip model (``ViT-B-32`` ...);
* ``hf``: a Hugging Face ``transformers`` vision model by hub id or local folder (ViT, DINOv2 ...);
* ``torchvision_vit`` / ``torchvision_cnn``: torchvision's ``vit_b_16`` ..., ResNet stages, Inception v3 blocks.

Layers: ``patch_embed`` (layer 0: the mean of the patch tokens entering the first block; the CLS token there is
the same for every image and carries no image information), then ``blocks.00`` ... : each block's output token
pooled as ``cls`` (default) or ``mean`` of the patch tokens, before the final norm.

Weights: a state-dict file (made by the pipeline's training or download rule, or the user's own), or random
initialisation when ``weights: random`` is asked for explicitly (a warning says so, and so does every output).
"""

from __future__ import annotations

import shutil
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

    kinds: dict[str, type[Encoder]] = {}
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

    def compile_blocks(self) -> None:
        """``torch.compile`` each block's forward. The hooks that capture every layer run outside the compiled
        code (in the module call around it), so capturing them triggers no recompilation."""
        for block in self.blocks:
            block.forward = torch.compile(block.forward)

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
    def wrap(cls, model, spec: dict, identity: dict) -> Encoder:
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
    def wrap(cls, model, spec: dict, identity: dict) -> Encoder:
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
    def wrap(cls, model, spec: dict, identity: dict) -> Encoder:
        import open_clip

        cfg = open_clip.get_pretrained_cfg(spec["name"], spec.get("pretrained", "")) or {}
        size = model.image_size[0] if isinstance(model.image_size, tuple) else model.image_size
        preprocess = Preprocess(int(size), tuple(cfg.get("mean", open_clip.OPENAI_DATASET_MEAN)),
                                tuple(cfg.get("std", open_clip.OPENAI_DATASET_STD)))
        transformer = model.transformer
        return cls(model, transformer.resblocks, preprocess, 1, spec.get("pooling", "cls"), identity,
                   batch_first=getattr(transformer, "batch_first", True))


IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class HFVisionTransformer(Encoder):
    """A Hugging Face ``transformers`` vision model (ViT, DeiT, DINOv2 ...) read through ``output_hidden_states``:
    hidden state 0 is the embedding output, hidden state i the output of block i, before the final norm."""

    kind = "hf"

    @staticmethod
    def _folder_view(folder: Path) -> Path:
        """A folder ``from_pretrained`` can read: the standard weights file name, whatever the file is called."""
        import tempfile

        if any((folder / name).exists() for name in ("model.safetensors", "pytorch_model.bin",
                                                      "model.safetensors.index.json")):
            return folder
        files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
        if len(files) != 1 or not (folder / "config.json").exists():
            raise MemprintError(f"{folder}: a Hugging Face model folder needs config.json and one weights file "
                                f"(*.safetensors or *.bin), found {[f.name for f in files]}")
        view = Path(tempfile.mkdtemp(prefix="memprint-hf-"))
        (view / "config.json").symlink_to((folder / "config.json").resolve())
        (view / f"model{files[0].suffix}").symlink_to(files[0].resolve())
        return view

    @classmethod
    def _config(cls, name: str):
        from transformers import AutoConfig

        if name.startswith((".", "/", "~")) and not Path(name).expanduser().is_dir():
            raise MemprintError(f"Hugging Face model folder {name} not found; fix the path, or give a hub id such "
                                "as facebook/dinov2-small")
        try:
            return AutoConfig.from_pretrained(name)
        except (OSError, ValueError) as err:
            raise MemprintError(f"Hugging Face model {name!r}: no config ({str(err).splitlines()[0]}); give a local "
                                "model folder, or go online once") from err

    @classmethod
    def load_model(cls, spec: dict, weights):
        from transformers import AutoModel

        if weights is not None and not Path(weights).exists():
            raise MemprintError(f"encoder {spec.get('name')}: weights {weights} not found; give an existing model "
                                "folder or state-dict file")
        if weights is not None and Path(weights).is_dir():
            folder = Path(weights)
            view = cls._folder_view(folder)
            try:
                model = AutoModel.from_pretrained(view, dtype=torch.float32)
            except (OSError, ValueError, RuntimeError) as err:
                raise MemprintError(f"{folder}: not a loadable Hugging Face model folder ({err})") from err
            finally:
                if view != folder:
                    shutil.rmtree(view, ignore_errors=True)
            weight_files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
            return model, {"weights_source": f"file:{folder.resolve()}",
                           "weights_sha256": ",".join(sha256_file(f) for f in weight_files)}
        if weights is not None:
            payload = torch.load(weights, map_location="cpu", weights_only=True)
            config = cls._config_from_dict(payload["hf_config"]) if "hf_config" in payload else cls._config(spec["name"])
            model = AutoModel.from_config(config)
            _load_state_dict(model, weights, f"encoder {spec['name']}")
            return model, {"weights_source": weights_source(weights), "weights_sha256": sha256_file(weights)}
        return AutoModel.from_config(cls._config(spec["name"])), _random_init_identity(spec)

    @staticmethod
    def _config_from_dict(config: dict):
        from transformers import AutoConfig

        config = dict(config)
        return AutoConfig.for_model(config.pop("model_type"), **config)

    @classmethod
    def hub_state_dict(cls, spec: dict) -> dict:
        from transformers import AutoModel

        cls._config(spec["name"])  # a missing local folder is named here, not taken for a hub id
        model = AutoModel.from_pretrained(spec["name"], dtype=torch.float32)
        return {"state_dict": model.state_dict(), "hf_config": model.config.to_dict()}

    @classmethod
    def wrap(cls, model, spec: dict, identity: dict) -> Encoder:
        config = model.config
        size = spec.get("input_size") or (224 if config.model_type == "dinov2" else config.image_size)
        mean, std = (IMAGENET_MEAN, IMAGENET_STD) if config.model_type == "dinov2" else ((0.5,) * 3, (0.5,) * 3)
        prefix = 1 + int(getattr(config, "num_register_tokens", 0) or 0)
        layers = getattr(getattr(model, "encoder", None), "layer", [])  # read by compile_blocks only: no hooks here
        encoder = cls(model, layers, Preprocess(int(size), mean, std), prefix, spec.get("pooling", "cls"), identity)
        encoder.layer_names = ["patch_embed"] + [f"blocks.{i:02d}" for i in range(config.num_hidden_layers)]
        return encoder

    @torch.inference_mode()
    def layer_embeddings(self, images_uint8: torch.Tensor) -> list[torch.Tensor]:
        hidden = self.model(pixel_values=self.preprocess(images_uint8), output_hidden_states=True).hidden_states
        return [self._pool(h, layer0=(i == 0)).float() for i, h in enumerate(hidden)]


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
            raise MemprintError(f"torchvision model {spec['name']}: stages unknown (ResNet and Inception v3 are supported)")
        encoder = cls(model, [getattr(model, n) for n in stages], _torchvision_preprocess(spec), 0, "mean", identity)
        encoder.layer_names = stages
        return encoder

    @torch.inference_mode()
    def layer_embeddings(self, images_uint8: torch.Tensor) -> list[torch.Tensor]:
        captured = []
        handles = [stage.register_forward_hook(lambda _m, _a, out: captured.append(out.float().mean(dim=(2, 3))))
                   for stage in self.blocks]
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


def _random_init_identity(spec: dict) -> dict:
    name = spec.get("name", spec.get("kind"))
    if spec.get("weights") != "random":
        raise MemprintError(f"encoder {name}: no weights file; set weights: random to use random initialisation "
                            "on purpose")
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
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return f"file:{Path(path).resolve()}"
    if isinstance(payload, dict) and "memprint_source" in payload:
        return str(payload["memprint_source"])
    return f"file:{Path(path).resolve()}"


def save_weights(path: str | Path, state_dict: dict, source: str, **extra) -> None:
    """Save a state dict with a note of where it came from, atomically."""
    from memprint.io import atomic_path

    with atomic_path(path) as tmp:
        torch.save({"state_dict": state_dict, "memprint_source": source, **extra}, tmp)


def bf16_autocast(device: torch.device):
    """bf16 autocast on CUDA; a no-op elsewhere (CPU runs in float32)."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def embed_images(encoder: Encoder, images: np.ndarray, batch_size: int, device: torch.device,
                 start: int = 0, on_batch=None, progress: bool = True):
    """Run ``images[start:]`` through ``encoder`` in batches; ``on_batch(first_row, per_layer_arrays)``.

    bf16 autocast on CUDA, float32 on CPU. ``on_batch`` runs in one writer thread, in batch order, while the
    next batch computes; on CUDA uploads come from pinned memory and downloads are asynchronous, so the GPU does
    not wait for the host. At most one batch waits for its write, so a caller can checkpoint after each.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    cuda = device.type == "cuda"
    bar = tqdm(total=len(images), initial=start, unit="img", disable=not progress, mininterval=5)

    def deliver(first: int, outputs: list[torch.Tensor], ready) -> None:
        if ready is not None:
            ready.synchronize()
        on_batch(first, [out.numpy() for out in outputs])
        bar.update(len(outputs[0]))

    pending = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedding-writer") as writer:
        for first in range(start, len(images), batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(images[first:first + batch_size]))
            batch = batch.pin_memory().to(device, non_blocking=True) if cuda else batch.to(device)
            with bf16_autocast(device):
                layers = encoder.layer_embeddings(batch)
            outputs = [layer.to("cpu", non_blocking=cuda) for layer in layers]
            ready = torch.cuda.Event() if cuda else None
            if ready is not None:
                ready.record()
            if pending is not None:
                pending.result()  # the previous write finished (its error, if any, raised here)
            pending = writer.submit(deliver, first, outputs, ready)
        if pending is not None:
            pending.result()
    bar.close()
