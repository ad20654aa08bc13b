"""Generators that are trained models or existing samples, sampled in seeded shards.

* ``diffusion``: a diffusers ``UNet2DModel`` (hub id such as ``google/ddpm-cifar10-32``, or a local folder saved
  with ``save_pretrained``) sampled with the ``ddpm``, ``ddim`` or ``pndm`` scheduler;
* ``module``: a generator network given by an importable ``class_path`` (plus constructor arguments) and a
  checkpoint (a state dict, or a dict holding one under ``state_key``); ``method`` names what maps latents to
  images (``forward``, or ``decode`` for a VAE);
* ``torchscript``: a TorchScript generator file;
* ``samples``: images someone already generated, as a folder or an ``.npz`` (``x`` or numpy's ``arr_0``).

Latents are N(0, I) of ``latent_shape``; ``output_range`` is the range the network's output maps onto 0..255;
``output_shape`` (C, H, W) reshapes flat outputs. Image ``i`` of a generator draws all its noise from its own
generator seeded by (seed, i), so a generator's samples are the same however they are split into shards or
batches and whichever machine runs them, up to float rounding: kernels may round differently by batch size
(at most one grey level on CPU) and GPU runs use bf16.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import numpy as np
import torch

from memprint import MemprintError
from memprint.encoders import bf16_autocast
from memprint.generators import DEFAULT_SAMPLES, MODEL_KINDS
from memprint.io import ImageSet, sha256_file

log = logging.getLogger(__name__)

def shard_bounds(total: int, shards: int, shard: int) -> tuple[int, int]:
    """Images [start, stop) of shard ``shard`` of ``shards``: near-equal parts, in order."""
    if not 1 <= shards <= total:
        raise MemprintError(f"{shards} shards for {total} samples; use 1 <= shards <= samples")
    if not 0 <= shard < shards:
        raise MemprintError(f"shard {shard} does not exist; a generator with {shards} shards has 0..{shards - 1}")
    return shard * total // shards, (shard + 1) * total // shards


def image_generators(seed: int, start: int, stop: int) -> list[torch.Generator]:
    """One CPU generator per image, seeded by (seed, image index): samples do not depend on shards, batch size
    or device (noise is drawn on the CPU and moved)."""
    states = [np.random.SeedSequence([seed, i]).generate_state(1, dtype=np.uint64)[0] for i in range(start, stop)]
    return [torch.Generator().manual_seed(int(state)) for state in states]


def draw_latents(generators: list[torch.Generator], shape: tuple[int, ...]) -> torch.Tensor:
    return torch.stack([torch.randn(shape, generator=g) for g in generators])


def to_uint8_nhwc(x: torch.Tensor, low: float, high: float) -> np.ndarray:
    """Network output (N, C, H, W) in [low, high] -> uint8 NHWC, clipped."""
    x = ((x.float() - low) / (high - low)).clamp_(0, 1).mul_(255).round_()
    return x.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


# ------------------------------------------------------------------------------------------------ diffusion

def load_unet(model: str):
    """A ``UNet2DModel`` and the scheduler config stored beside it (none when the folder has only the UNet)."""
    from diffusers import DDPMScheduler, UNet2DModel

    local = Path(model)
    try:
        unet = UNet2DModel.from_pretrained(model)
    except (OSError, ValueError) as err:
        where = "local folder" if local.exists() else "hub id (no network?)"
        raise MemprintError(f"diffusion model {model!r} ({where}) could not be loaded as a diffusers UNet2DModel "
                            f"({err}); give a folder written by UNet2DModel.save_pretrained") from err
    try:
        scheduler_config = DDPMScheduler.load_config(model)
    except (OSError, ValueError):
        scheduler_config = None
    weights = sorted(p for p in local.glob("*") if p.suffix in (".safetensors", ".bin")) if local.is_dir() else []
    identity = {"model": model, "weights": "hub" if not weights else
                {p.name: sha256_file(p) for p in weights}, "scheduler_config": "stored" if scheduler_config else "default"}
    return unet, scheduler_config, identity


def load_zoo(weights: str) -> tuple[torch.nn.Module, dict, dict]:
    """A zoo checkpoint's sampling network, its description, and what identifies its weights."""
    from memprint.zoo import load_zoo_checkpoint

    network, described = load_zoo_checkpoint(weights)
    return network, described, {**described, "weights": weights, "weights_sha256": sha256_file(weights)}


def load_diffusion(spec: dict, weights: str):
    """The UNet of a diffusion generator (a ``UNet2DModel`` folder or a zoo DDPM checkpoint), its noise-schedule
    config (None: diffusers' default) and what identifies its weights: what InvMM inverts."""
    if spec["kind"] == "diffusion":
        return load_unet(weights)
    network, described, identity = load_zoo(weights)
    if described["arch"] != "ddpm":
        raise MemprintError(f"zoo checkpoint {weights} holds a {described['arch']}, not a diffusion model")
    return network, described["noise_schedule"], identity


def make_scheduler(name: str, steps: int, scheduler_config: dict | None):
    """The sampler: DDPM (ancestral, usually 1,000 steps), DDIM (deterministic at eta 0) or PNDM."""
    from diffusers import DDIMScheduler, DDPMScheduler, PNDMScheduler

    classes = {"ddpm": DDPMScheduler, "ddim": DDIMScheduler, "pndm": PNDMScheduler}
    if name not in classes:
        raise MemprintError(f"scheduler {name!r} is unknown; use one of {sorted(classes)}")
    scheduler = classes[name].from_config(scheduler_config) if scheduler_config else classes[name]()
    if steps > scheduler.config.num_train_timesteps:
        raise MemprintError(f"{steps} sampling steps > the model's {scheduler.config.num_train_timesteps} "
                            "training timesteps; use fewer steps")
    scheduler.set_timesteps(steps)
    return scheduler


@torch.no_grad()
def sample_diffusion(unet, scheduler, generators: list[torch.Generator], device: torch.device, batch_size: int,
                     eta: float = 0.0) -> np.ndarray:
    """One image per generator through the scheduler's reverse process, in batches; model outputs in [-1, 1].

    Each image's initial noise and DDPM/DDIM step noise come from its own CPU generator.
    """
    import copy
    import inspect

    from tqdm import tqdm

    unet = unet.to(device).eval()
    channels, size = unet.config.in_channels, unet.config.sample_size
    size = (size, size) if isinstance(size, int) else tuple(size)
    step_args = inspect.signature(scheduler.step).parameters
    out = []
    for start in tqdm(range(0, len(generators), batch_size), desc="diffusion batches", mininterval=10):
        batch = generators[start:start + batch_size]
        extra = {key: value for key, value in (("generator", batch), ("eta", eta)) if key in step_args}
        batch_scheduler = copy.deepcopy(scheduler)  # PNDM keeps per-run history
        x = draw_latents(batch, (channels,) + size).to(device) * batch_scheduler.init_noise_sigma
        for t in batch_scheduler.timesteps:
            with bf16_autocast(device):
                eps = unet(batch_scheduler.scale_model_input(x, t), t).sample.float()
            x = batch_scheduler.step(eps, t, x, **extra).prev_sample
        out.append(to_uint8_nhwc(x, -1.0, 1.0))
    return np.concatenate(out)


# ------------------------------------------------------------------------------------ module / torchscript

def import_class(path: str):
    module_name, _, class_name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as err:
        raise MemprintError(f"class_path {path!r} could not be imported ({err}); give module.ClassName of a class "
                            "on the Python path") from err


def configured_weights(spec: dict) -> str:
    """Where a model generator's config says its weights are (a zoo checkpoint is made by the pipeline)."""
    key = {"diffusion": "model", "module": "checkpoint", "torchscript": "file"}.get(spec["kind"])
    if key is None:
        raise MemprintError(f"a {spec['kind']} generator has no weights in its config; pass the checkpoint path")
    return spec[key]


def load_module(spec: dict, weights: str | None = None) -> tuple[torch.nn.Module, dict]:
    """The network of a ``module`` or ``torchscript`` generator, in eval mode, and where its weights came from."""
    path = Path(weights or configured_weights(spec))
    if not path.is_file():
        raise MemprintError(f"generator weights {path}: file not found; give an existing checkpoint path")
    identity = {"weights": str(path), "weights_sha256": sha256_file(path)}
    if spec["kind"] == "torchscript":
        try:
            return torch.jit.load(str(path), map_location="cpu").eval(), identity
        except RuntimeError as err:
            raise MemprintError(f"{path}: not a TorchScript file ({err}); save it with torch.jit.save") from err
    network = import_class(spec["class_path"])(**spec.get("arguments", {}))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if spec.get("state_key"):
        state = state[spec["state_key"]]
    try:
        network.load_state_dict(state)
    except RuntimeError as err:
        raise MemprintError(f"{path} does not fit {spec['class_path']}({spec.get('arguments', {})}): "
                            f"{str(err).splitlines()[0]}; check class_path and arguments") from err
    return network.eval(), {**identity, "class_path": spec["class_path"]}


@torch.no_grad()
def sample_module(network, spec: dict, generators: list[torch.Generator], device: torch.device,
                  batch_size: int) -> np.ndarray:
    """Latents N(0, I) through ``network.<method>``, reshaped to ``output_shape`` and mapped from ``output_range``."""
    network = network.to(device)
    forward = getattr(network, spec.get("method", "forward"))
    low, high = spec.get("output_range", [-1.0, 1.0])
    out = []
    for start in range(0, len(generators), batch_size):
        z = draw_latents(generators[start:start + batch_size], tuple(spec["latent_shape"])).to(device)
        with bf16_autocast(device):
            x = forward(z).float()
        if spec.get("output_shape"):
            x = x.reshape((len(z),) + tuple(spec["output_shape"]))
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise MemprintError(f"generator output has shape {tuple(x.shape)}, not (N, 1 or 3, H, W); set "
                                "output_shape: [C, H, W]")
        out.append(to_uint8_nhwc(x, low, high))
    return np.concatenate(out)


# ----------------------------------------------------------------------------------------------- one shard

def sample_shard(name: str, spec: dict, shard: int, device: torch.device, batch_size: int,
                 weights: str | None = None) -> ImageSet:
    """Images [start, stop) of model generator ``name``, shard ``shard`` of ``spec['shards']``.

    ``weights``: where the weights are on this machine (the pipeline passes its rule input: a zoo checkpoint,
    a fetched hub model folder); default: the path in ``spec``.
    """
    start, stop = shard_bounds(int(spec.get("samples", DEFAULT_SAMPLES)), int(spec.get("shards", 1)), shard)
    generators = image_generators(int(spec.get("seed", 0)), start, stop)
    weights = weights or configured_weights(spec)
    unet, sampling = None, spec  # sampling: the latent and output keys sample_module reads
    if spec["kind"] == "diffusion":
        unet, scheduler_config, identity = load_unet(weights)
    elif spec["kind"] == "zoo":
        network, described, identity = load_zoo(weights)
        if described["arch"] == "ddpm":
            unet, scheduler_config = network, described["noise_schedule"]
        else:
            sampling = {"method": "decode", "latent_shape": [described["latent_dim"]], "output_range": [-1.0, 1.0]}
    elif spec["kind"] in ("module", "torchscript"):
        network, identity = load_module(spec, weights)
    else:
        raise MemprintError(f"generator {name}: kind {spec['kind']!r} is not sampled in shards; use one of {MODEL_KINDS}")
    if unet is not None:
        scheduler = make_scheduler(spec["scheduler"], int(spec["steps"]), scheduler_config)
        images = sample_diffusion(unet, scheduler, generators, device, batch_size, float(spec.get("eta", 0.0)))
    else:
        images = sample_module(network, sampling, generators, device, batch_size)
    ids = np.array([f"{name}/{i}" for i in range(start, stop)], dtype=object)
    attrs = {"source": f"generator:{spec['kind']}", "generator": name, "generator_spec": spec, "seed": spec.get("seed", 0),
             "shard": f"{shard}/{spec.get('shards', 1)}", "images": f"{start}:{stop}", "weights_used": identity}
    return ImageSet(images, np.full(len(images), -1, np.int64), ids, attrs)


def gather_shards(shards: list[ImageSet]) -> ImageSet:
    """One image set from a generator's shards, in order; refuses shards of different runs or shapes."""
    specs = {str(s.attrs.get("generator_spec")) for s in shards}
    if len(specs) != 1:
        raise MemprintError("shards come from different generator settings; delete the shard files and rerun")
    shapes = {s.images.shape[1:] for s in shards}
    if len(shapes) != 1:
        raise MemprintError(f"shards have different image shapes {sorted(shapes)}; delete the shard files and rerun")
    first = shards[0].attrs
    attrs = {key: first[key] for key in ("source", "generator", "generator_spec", "seed", "weights_used") if key in first}
    attrs["shards"] = len(shards)
    seconds = [s.attrs.get("sample_seconds") for s in shards]
    if all(seconds):
        attrs.update(sample_seconds=float(sum(seconds)), images_per_second=sum(map(len, shards)) / float(sum(seconds)))
    return ImageSet(np.concatenate([s.images for s in shards]), np.concatenate([s.labels for s in shards]),
                    np.concatenate([s.image_ids for s in shards]), attrs)


def load_samples(name: str, spec: dict) -> ImageSet:
    """Existing samples (folder or .npz); ``samples``: a seeded (class-stratified when labelled) subset."""
    from memprint.datasets import load_folder, load_npz
    from memprint.subsets import stratified_indices

    path = Path(spec["path"])
    if path.is_dir():
        imageset = load_folder(path)
    elif path.suffix == ".npz":
        imageset = load_npz(path)
    else:
        raise MemprintError(f"generator {name}: samples path {path} is neither a folder nor an .npz file")
    wanted = spec.get("samples")
    if wanted and wanted > len(imageset):
        raise MemprintError(f"generator {name}: {wanted} samples asked for, {path} holds {len(imageset)}; "
                            "lower samples or add images")
    keep = stratified_indices(imageset.labels, wanted or len(imageset), int(spec.get("seed", 0)), f"generator {name}")
    attrs = {"source": f"samples:{path.resolve()}", "generator": name, "generator_spec": spec,
             "weights_used": "none (existing samples)"}
    return ImageSet(imageset.images[keep], imageset.labels[keep], imageset.image_ids[keep], attrs)
