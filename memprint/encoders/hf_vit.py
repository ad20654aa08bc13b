"""Hugging Face ``transformers`` vision models by hub id or local folder (ViT, DeiT, DINOv2 ...)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from memprint import MemprintError
from memprint.checkpoints import load_checkpoint
from memprint.encoders.base import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Encoder,
    Preprocess,
    _load_state_dict,
    _random_init_identity,
    inference_mode,
    weights_source,
)
from memprint.io import sha256_file

if TYPE_CHECKING:
    import torch


class HFVisionTransformer(Encoder):
    """A Hugging Face ``transformers`` vision model (ViT, DeiT, DINOv2 ...) read through ``output_hidden_states``:
    hidden state 0 is the embedding output, hidden state i the output of block i, before the final norm."""

    kind = "hf"

    @classmethod
    def check(cls, spec: dict, key: str) -> None:
        """A ``name`` that is a local path (the offline asset) must exist too."""
        super().check(spec, key)
        folder = Path(spec["name"]).expanduser()
        if spec["name"].startswith((".", "/", "~")) and not folder.exists():
            raise MemprintError(f"config error at {key}.name: file or folder {spec['name']} not found; fix the path")
        if (folder / "config.json").is_file():
            import json

            cls.check_input_size(spec, json.loads((folder / "config.json").read_text()).get("patch_size"), key)

    @staticmethod
    def check_input_size(spec: dict, patch: int | None, key: str) -> None:
        """A ViT cuts its input into patch x patch tiles: an input size that is not a multiple drops pixels."""
        size = spec.get("input_size")
        if size and patch and size % patch:
            raise MemprintError(
                f"config error at {key}.input_size: {size} is not a multiple of the model's patch size {patch}; use "
                f"{size - size % patch} or {size - size % patch + patch}"
            )

    @staticmethod
    def _folder_view(folder: Path) -> Path:
        """A folder ``from_pretrained`` can read: the standard weights file name, whatever the file is called."""
        import tempfile

        if any(
            (folder / name).exists()
            for name in ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")
        ):
            return folder
        files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
        if len(files) != 1 or not (folder / "config.json").exists():
            raise MemprintError(
                f"{folder}: a Hugging Face model folder needs config.json and one weights file "
                f"(*.safetensors or *.bin), found {[f.name for f in files]}"
            )
        view = Path(tempfile.mkdtemp(prefix="memprint-hf-"))
        (view / "config.json").symlink_to((folder / "config.json").resolve())
        (view / f"model{files[0].suffix}").symlink_to(files[0].resolve())
        return view

    @classmethod
    def _config(cls, name: str):
        from transformers import AutoConfig

        if name.startswith((".", "/", "~")) and not Path(name).expanduser().is_dir():
            raise MemprintError(
                f"Hugging Face model folder {name} not found; fix the path, or give a hub id such "
                "as facebook/dinov2-small"
            )
        try:
            return AutoConfig.from_pretrained(name)
        except (OSError, ValueError) as err:
            raise MemprintError(
                f"Hugging Face model {name!r}: no config ({str(err).splitlines()[0]}); give a local "
                "model folder, or go online once"
            ) from err

    @classmethod
    def load_model(cls, spec: dict, weights):
        import torch
        from transformers import AutoModel

        if weights is not None and not Path(weights).exists():
            raise MemprintError(
                f"encoder {spec.get('name')}: weights {weights} not found; give an existing model "
                "folder or state-dict file"
            )
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
            return model, {
                "weights_source": f"file:{folder.resolve()}",
                "weights_sha256": ",".join(sha256_file(f) for f in weight_files),
            }
        if weights is not None:
            payload = load_checkpoint(weights, f"encoder {spec['name']}")
            config = (
                cls._config_from_dict(payload["hf_config"]) if "hf_config" in payload else cls._config(spec["name"])
            )
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
        import torch
        from transformers import AutoModel

        cls._config(spec["name"])  # a missing local folder is named here, not taken for a hub id
        model = AutoModel.from_pretrained(spec["name"], dtype=torch.float32)
        return {"state_dict": model.state_dict(), "hf_config": model.config.to_dict()}

    @classmethod
    def wrap(cls, model, spec: dict, identity: dict) -> Encoder:
        config = model.config
        cls.check_input_size(spec, getattr(config, "patch_size", None), f"encoder {spec.get('name')}")
        size = spec.get("input_size") or (224 if config.model_type == "dinov2" else config.image_size)
        mean, std = (IMAGENET_MEAN, IMAGENET_STD) if config.model_type == "dinov2" else ((0.5,) * 3, (0.5,) * 3)
        prefix = 1 + int(getattr(config, "num_register_tokens", 0) or 0)
        layers = getattr(getattr(model, "encoder", None), "layer", [])  # read by compile_blocks only: no hooks here
        encoder = cls(model, layers, Preprocess(int(size), mean, std), prefix, spec.get("pooling", "cls"), identity)
        encoder.layer_names = ["patch_embed"] + [f"blocks.{i:02d}" for i in range(config.num_hidden_layers)]
        return encoder

    @inference_mode
    def layer_embeddings(self, images_uint8: torch.Tensor) -> list[torch.Tensor]:
        hidden = self.model(pixel_values=self.preprocess(images_uint8), output_hidden_states=True).hidden_states
        return [self._pool(h, layer0=(i == 0)).float() for i, h in enumerate(hidden)]
