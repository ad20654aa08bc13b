"""Diffusion generators: a diffusers ``UNet2DModel`` (hub id such as ``google/ddpm-cifar10-32``, or a local
folder saved with ``save_pretrained``) sampled with the ``ddpm``, ``ddim`` or ``pndm`` scheduler."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from memprint import MemprintError
from memprint.generators.base import WeightsSource
from memprint.generators.shards import ShardedKind, draw_latents, to_uint8_nhwc
from memprint.io import sha256_file
from memprint.runtime import autocast


def load_unet(model: str):
    """A ``UNet2DModel`` and the scheduler config stored beside it (none when the folder has only the UNet)."""
    from diffusers import DDPMScheduler, UNet2DModel

    local = Path(model)
    try:
        unet = UNet2DModel.from_pretrained(model)
    except (OSError, ValueError) as err:
        where = "local folder" if local.exists() else "hub id (no network?)"
        raise MemprintError(
            f"diffusion model {model!r} ({where}) could not be loaded as a diffusers UNet2DModel "
            f"({err}); give a folder written by UNet2DModel.save_pretrained"
        ) from err
    try:
        scheduler_config = DDPMScheduler.load_config(model)
    except (OSError, ValueError):
        scheduler_config = None
    weights = sorted(p for p in local.glob("*") if p.suffix in (".safetensors", ".bin")) if local.is_dir() else []
    identity = {
        "model": model,
        "weights": "hub" if not weights else {p.name: sha256_file(p) for p in weights},
        "scheduler_config": "stored" if scheduler_config else "default",
    }
    return unet, scheduler_config, identity


def make_scheduler(name: str, steps: int, scheduler_config: dict | None):
    """The sampler: DDPM (ancestral, usually 1,000 steps), DDIM (deterministic at eta 0) or PNDM."""
    from diffusers import DDIMScheduler, DDPMScheduler, PNDMScheduler

    classes = {"ddpm": DDPMScheduler, "ddim": DDIMScheduler, "pndm": PNDMScheduler}
    if name not in classes:
        raise MemprintError(f"scheduler {name!r} is unknown; use one of {sorted(classes)}")
    scheduler = classes[name].from_config(scheduler_config) if scheduler_config else classes[name]()
    if steps > scheduler.config.num_train_timesteps:
        raise MemprintError(
            f"{steps} sampling steps > the model's {scheduler.config.num_train_timesteps} "
            "training timesteps; use fewer steps"
        )
    scheduler.set_timesteps(steps)
    return scheduler


def sample_diffusion(unet, scheduler, generators: list, device, batch_size: int, eta: float = 0.0) -> np.ndarray:
    """One image per generator through the scheduler's reverse process, in batches; model outputs in [-1, 1].

    Each image's initial noise and DDPM/DDIM step noise come from its own CPU generator.
    """
    import torch

    with torch.no_grad():
        return _sample_diffusion(unet, scheduler, generators, device, batch_size, eta)


def _sample_diffusion(unet, scheduler, generators: list, device, batch_size: int, eta: float) -> np.ndarray:
    import copy
    import inspect

    from tqdm import tqdm

    unet = unet.to(device).eval()
    channels, size = unet.config.in_channels, unet.config.sample_size
    size = (size, size) if isinstance(size, int) else tuple(size)
    step_args = inspect.signature(scheduler.step).parameters
    out = []
    for start in tqdm(range(0, len(generators), batch_size), desc="diffusion batches", mininterval=10):
        batch = generators[start : start + batch_size]
        extra = {key: value for key, value in (("generator", batch), ("eta", eta)) if key in step_args}
        batch_scheduler = copy.deepcopy(scheduler)  # PNDM keeps per-run history
        x = draw_latents(batch, (channels, *size)).to(device) * batch_scheduler.init_noise_sigma
        for t in batch_scheduler.timesteps:
            with autocast(device):
                eps = unet(batch_scheduler.scale_model_input(x, t), t).sample.float()
            x = batch_scheduler.step(eps, t, x, **extra).prev_sample
        out.append(to_uint8_nhwc(x, -1.0, 1.0))
    return np.concatenate(out)


class Diffusion(ShardedKind):
    kind = "diffusion"
    diffusion = True
    weights_key = "model"

    def weights_source(self) -> WeightsSource:
        model = self.spec["model"]
        return WeightsSource("file" if Path(model).exists() else "hub", model)

    def load_diffusion(self, weights: str):
        """The UNet, its noise-schedule config (None: diffusers' default) and what identifies its weights: what
        sampling and InvMM run."""
        return load_unet(weights)

    def draw(self, generators, device, batch_size, weights):
        unet, scheduler_config, identity = self.load_diffusion(weights)
        scheduler = make_scheduler(self.spec["scheduler"], int(self.spec["steps"]), scheduler_config)
        return sample_diffusion(unet, scheduler, generators, device, batch_size, float(self.spec["eta"])), identity
