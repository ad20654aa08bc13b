"""Generator networks given by the user: an importable ``class_path`` with constructor ``arguments`` and a
``checkpoint`` (a state dict, or a dict holding one under ``state_key``), or a TorchScript ``file``. ``method``
names what maps latents to images (``forward``, or ``decode`` for a VAE); ``latent_shape`` the noise;
``output_shape`` (C, H, W) reshapes flat outputs."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np

from memprint import MemprintError
from memprint.checkpoints import load_checkpoint, load_into
from memprint.generators.shards import ShardedKind, draw_latents, to_uint8_nhwc
from memprint.io import sha256_file
from memprint.pixels import check_clipping
from memprint.runtime import autocast

CLASS_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def import_class(path: str):
    """The ``torch.nn.Module`` subclass ``path`` names. Importing runs the module's code: memprint does it only
    in the sampling job, never while planning the workflow, and refuses anything but a network class (a
    config naming ``os.system`` with arguments would otherwise run a command)."""
    from torch import nn

    module_name, _, class_name = path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as err:
        raise MemprintError(
            f"class_path {path!r} could not be imported ({err}); give module.ClassName of a class on the Python path"
        ) from err
    if not (isinstance(found, type) and issubclass(found, nn.Module)):
        raise MemprintError(
            f"class_path {path!r} is a {type(found).__name__}, not a torch.nn.Module subclass; name the network's class"
        )
    return found


def load_module(spec: dict, weights: str) -> tuple:
    """The network of a ``module`` or ``torchscript`` generator, in eval mode, and where its weights came from."""
    import torch

    path = Path(weights)
    if not path.is_file():
        raise MemprintError(f"generator weights {path}: file not found; give an existing checkpoint path")
    identity = {"weights": str(path), "weights_sha256": sha256_file(path)}
    if spec["kind"] == "torchscript":
        try:
            return torch.jit.load(str(path), map_location="cpu").eval(), identity
        except RuntimeError as err:
            raise MemprintError(f"{path}: not a TorchScript file ({err}); save it with torch.jit.save") from err
    network = import_class(spec["class_path"])(**spec.get("arguments", {}))
    what = f"generator {spec['class_path']}"
    state = load_checkpoint(path, what)
    if spec.get("state_key"):
        if not isinstance(state, dict) or spec["state_key"] not in state:
            keys = sorted(state)[:8] if isinstance(state, dict) else type(state).__name__
            raise MemprintError(
                f"{what}: {path} has no {spec['state_key']!r} (state_key); it holds {keys}; fix state_key"
            )
        state = state[spec["state_key"]]
    load_into(network, state, path, what, f"check class_path and arguments ({spec.get('arguments', {})}) and state_key")
    return network.eval(), {**identity, "class_path": spec["class_path"]}


def sample_module(network, spec: dict, generators: list, device, batch_size: int) -> np.ndarray:
    """Latents N(0, I) through ``network.<method>``, reshaped to ``output_shape`` and mapped from ``output_range``."""
    network = network.to(device)
    forward = getattr(network, spec.get("method", "forward"))
    low, high = spec.get("output_range", [-1.0, 1.0])
    out = []
    for start in range(0, len(generators), batch_size):
        z = draw_latents(generators[start : start + batch_size], tuple(spec["latent_shape"])).to(device)
        with autocast(device):
            x = forward(z).float()
        if spec.get("output_shape"):
            x = x.reshape((len(z), *tuple(spec["output_shape"])))
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise MemprintError(
                f"generator output has shape {tuple(x.shape)}, not (N, 1 or 3, H, W); set output_shape: [C, H, W]"
            )
        check_clipping(x, low, high, f"generator {spec.get('class_path') or spec.get('file')}")
        out.append(to_uint8_nhwc(x, low, high))
    return np.concatenate(out)


class Module(ShardedKind):
    kind = "module"
    weights_key = "checkpoint"
    files = ("checkpoint",)

    def check(self, config: dict, train_size: int | None = None) -> None:
        """The class path's form only: importing it would run its module while the workflow is planned."""
        if not CLASS_PATH.match(self.spec["class_path"]):
            raise MemprintError(
                f"config error at generators.{self.name}.class_path: {self.spec['class_path']!r} is not of the form "
                "package.module.ClassName; give the network class's dotted path"
            )

    def draw(self, generators, device, batch_size, weights):
        network, identity = load_module(self.spec, weights)
        return sample_module(network, self.spec, generators, device, batch_size), identity


class TorchScript(Module):
    kind = "torchscript"
    weights_key = "file"
    files = ("file",)

    def check(self, config: dict, train_size: int | None = None) -> None:
        pass
