"""InvMM: per-image memorization of a diffusion model by inverting its sampler (Ma et al., 2024).

For a target image x0, search a Gaussian N(mu, diag(exp(logvar))) over the sampler's initial noise whose samples
the model maps back to x0, trading reconstruction ("sensitivity") against the distribution's KL divergence to
N(0, I) ("normality") with an adaptive weight. The score is that KL once samples drawn from the distribution and
run through a deterministic DDIM reproduce x0 (every one of ``check_images`` reaches ``threshold`` similarity);
infinite if they never do. Lower = more memorized: typical noise already reproduces the image.

As the authors' DDPM code does: mu and logvar start at 0; each step draws ``noise_samples`` noises eps from the
distribution, builds x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps at random timesteps, and minimises
MSE(x0, x0_pred(x_t, t)) + w * 0.5 * mean(mu^2 + exp(logvar) - logvar - 1) with Adam; w starts at 1, grows by
``weight_growth`` a step, except at a check (every ``check_every`` steps) where it is halved instead when the
reconstruction MSE, averaged over the steps since the previous check (the authors: over the last 100 steps, checks
every 50), improved by less than ``min_improvement``.
The score is the KL's mean over pixels, as in the authors' code since their commit 47c65ed (March 2025; a sum
before): for images of one size the two rank alike, and the mean is the term the loss weighs and reads the same
at any resolution. Many images are inverted at once, each with its own mu, logvar, weight and stop.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from memprint import MemprintError
from memprint.runtime import autocast
from memprint.schema import section_defaults

log = logging.getLogger(__name__)


_DEFAULTS = section_defaults("invmm.settings")  # the authors' DDPM settings, from the schema


@dataclass(frozen=True)
class InvMMSettings:
    noise_samples: int = _DEFAULTS["noise_samples"]
    lr: float = _DEFAULTS["lr"]
    max_steps: int = _DEFAULTS["max_steps"]
    weight_start: float = _DEFAULTS["weight_start"]
    weight_growth: float = _DEFAULTS["weight_growth"]
    check_every: int = _DEFAULTS["check_every"]
    min_improvement: float = _DEFAULTS["min_improvement"]
    check_images: int = _DEFAULTS["check_images"]
    ddim_steps: int = _DEFAULTS["ddim_steps"]
    threshold: float = _DEFAULTS["threshold"]
    seed: int = _DEFAULTS["seed"]


# ---------------------------------------------------------------------------------------------- similarity


class PixelCorrelation:
    """Pearson correlation of two images' pixels: a model-free stand-in for a copy-detection descriptor."""

    name = "pixel correlation (Pearson, over all pixels)"

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a, b = a.flatten(1).float(), b.flatten(1).float()
        a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
        return F.cosine_similarity(a, b, dim=1, eps=1e-8)


class DescriptorCosine:
    """Cosine of two images' descriptors from ``network``: SSCD (a TorchScript file, ImageNet normalisation,
    the copy-detection descriptor InvMM uses) or the last layer of a memprint encoder."""

    def __init__(self, describe, name: str):
        self.describe, self.name = describe, name

    @classmethod
    def sscd(cls, path: str, device: torch.device, size: int = 224) -> DescriptorCosine:
        from memprint.io import sha256_file

        try:
            network = torch.jit.load(path, map_location=device).eval()
        except (RuntimeError, ValueError) as err:
            raise MemprintError(
                f"SSCD model {path}: not a TorchScript file ({err}); give e.g. sscd_disc_mixup.torchscript.pt"
            ) from err
        mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)

        def describe(x):  # x in [-1, 1], (N, C, H, W)
            x = ((x + 1) / 2).expand(-1, 3, -1, -1)
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
            return network((x - mean) / std)

        return cls(describe, f"SSCD {path} (sha256 {sha256_file(path)})")

    @classmethod
    def encoder(cls, encoder) -> DescriptorCosine:
        def describe(x):
            uint8 = ((x + 1) * 127.5).clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)
            return encoder.layer_embeddings(uint8)[-1]

        weights = encoder.identity.get("weights_source", "unknown weights")
        return cls(
            describe,
            f"cosine of the last-layer embedding of encoder {encoder.identity.get('encoder_spec')} ({weights})",
        )

    @torch.no_grad()
    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.cosine_similarity(self.describe(a).float(), self.describe(b).float(), dim=1)


# ---------------------------------------------------------------------------------------------- inversion


def _ddim_images(unet, scheduler, noise: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Deterministic DDIM (eta 0) from the given initial noise; images in [-1, 1]."""
    x = noise
    for t in scheduler.timesteps:
        with autocast(device):
            eps = unet(x, t).sample.float()
        x = scheduler.step(eps, t, x, eta=0.0).prev_sample
    return x.clamp(-1, 1)


def _normal(rngs: list[torch.Generator], active: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """Standard normal draws for the active images, each from its own generator: an image's draws do not
    depend on which other images share its batch."""
    return torch.stack([torch.randn(shape, generator=rngs[i]) for i in active.tolist()])


def invert(
    unet,
    noise_schedule: dict,
    targets: torch.Tensor,
    similarity,
    settings: InvMMSettings,
    device: torch.device,
    image_numbers: list[int] | None = None,
    progress: bool = True,
) -> list[dict]:
    """InvMM of each target image (N, C, H, W) in [-1, 1]: one dict per image with ``score`` (KL at the stop,
    inf if never reproduced), ``steps``, ``min_similarity`` at the last check, the final ``weight`` and how far
    the mean moved from 0 (``mean_abs_mu``).

    Image k draws its noise and timesteps from seed (settings.seed, image_numbers[k]), so a score does not
    depend on the batch it was computed in.
    """
    from diffusers import DDIMScheduler, DDPMScheduler
    from tqdm import tqdm

    expected = (unet.config.in_channels, unet.config.sample_size, unet.config.sample_size)
    if targets.ndim != 4 or tuple(targets.shape[1:]) != expected:
        raise MemprintError(
            f"InvMM targets have shape {tuple(targets.shape)}, the model makes {expected} images; "
            "score images of the model's training size"
        )
    unet = unet.to(device).eval().requires_grad_(False)
    alphas = DDPMScheduler.from_config(noise_schedule).alphas_cumprod.to(device)
    ddim = DDIMScheduler.from_config(noise_schedule)
    ddim.set_timesteps(settings.ddim_steps)
    n, shape = len(targets), tuple(targets.shape[1:])
    x0 = targets.to(device).float()
    mu = torch.zeros_like(x0, requires_grad=True)
    logvar = torch.zeros_like(x0, requires_grad=True)
    optimiser = torch.optim.Adam([mu, logvar], lr=settings.lr)
    weight = torch.full((n,), settings.weight_start, device=device)
    previous = torch.full((n,), math.inf, device=device)  # mean reconstruction MSE over the previous window
    window_mse = torch.zeros(n, device=device)
    score = torch.full((n,), math.inf)
    steps = torch.full((n,), settings.max_steps)
    last_similarity = torch.full((n,), math.nan)
    active = torch.ones(n, dtype=torch.bool)
    numbers = range(n) if image_numbers is None else image_numbers
    rngs = [
        torch.Generator().manual_seed(int(np.random.SeedSequence([settings.seed, k]).generate_state(1)[0]))
        for k in numbers
    ]
    samples = settings.noise_samples
    for step in tqdm(range(1, settings.max_steps + 1), desc="InvMM steps", disable=not progress, mininterval=10):
        cpu_idx = active.nonzero().squeeze(1)
        idx = cpu_idx.to(device)
        std = (0.5 * logvar[idx]).exp()
        eps = mu[idx, None] + std[:, None] * _normal(rngs, cpu_idx, (samples, *shape)).to(device)
        t = torch.stack([torch.randint(0, len(alphas), (samples,), generator=rngs[i]) for i in cpu_idx.tolist()]).to(
            device
        )
        a = alphas[t].view(len(idx), samples, 1, 1, 1)
        x_t = a.sqrt() * x0[idx, None] + (1 - a).sqrt() * eps
        with autocast(device):
            eps_pred = unet(x_t.flatten(0, 1), t.flatten()).sample.float().view_as(x_t)
        x0_pred = (x_t - (1 - a).sqrt() * eps_pred) / a.sqrt()
        mse = (x0_pred - x0[idx, None]).pow(2).flatten(1).mean(1)
        kl = 0.5 * (mu[idx].pow(2) + logvar[idx].exp() - logvar[idx] - 1).flatten(1).mean(1)
        loss = mse + weight[idx] * kl
        optimiser.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimiser.step()
        window_mse[idx] += mse.detach()
        if step % settings.check_every:
            weight[idx] += settings.weight_growth
            continue
        smoothed = window_mse[idx] / settings.check_every
        stalled = previous[idx] - smoothed < settings.min_improvement
        weight[idx] = torch.where(stalled, weight[idx] / 2, weight[idx] + settings.weight_growth)
        previous[idx], window_mse[idx] = smoothed, 0.0
        with torch.no_grad():
            std = (0.5 * logvar[idx]).exp()
            noise = mu[idx, None] + std[:, None] * _normal(rngs, cpu_idx, (settings.check_images, *shape)).to(device)
            images = _ddim_images(unet, ddim, noise.flatten(0, 1), device)
            sims = similarity(images, x0[idx].repeat_interleave(settings.check_images, 0))
            worst = sims.view(len(idx), settings.check_images).min(1).values.float().cpu()
            kl_now = (0.5 * (mu[idx].pow(2) + logvar[idx].exp() - logvar[idx] - 1)).flatten(1).mean(1).cpu()
        last_similarity[cpu_idx] = worst
        done = worst >= settings.threshold
        score[cpu_idx[done]] = kl_now[done]
        steps[cpu_idx[done]] = step
        active[cpu_idx[done]] = False
        log.info("InvMM step %d: %d of %d images reproduced", step, int((~active).sum()), n)
        if not active.any():
            break
    moved = mu.detach().abs().flatten(1).mean(1).cpu()
    return [
        {
            "score": float(score[i]),
            "steps": int(steps[i]),
            "min_similarity": float(last_similarity[i]),
            "weight": float(weight[i]),
            "mean_abs_mu": float(moved[i]),
            "reproduced": bool(math.isfinite(score[i])),
        }
        for i in range(n)
    ]


def make_similarity(spec: dict, device: torch.device, encoder_weights: str | None = None):
    """The configured image similarity: ``sscd`` (its TorchScript ``file``), ``encoder`` (an encoder config entry
    under ``encoder_spec``; its weights file) or ``pixel_correlation``. Its ``name`` goes into every output."""
    kind = spec["kind"]
    if kind == "pixel_correlation":
        return PixelCorrelation()
    if kind == "sscd":
        return DescriptorCosine.sscd(spec["file"], device)
    if kind == "encoder":
        from memprint.encoders import load_encoder

        return DescriptorCosine.encoder(load_encoder(spec["encoder_spec"], encoder_weights, device))
    raise MemprintError(f"InvMM similarity {kind!r} is unknown; use sscd, encoder or pixel_correlation")


def roc_auc(scores: np.ndarray, memorized: np.ndarray) -> float:
    """How well a low InvMM score singles out the known-memorized images (1: perfectly, 0.5: chance)."""
    from sklearn.metrics import roc_auc_score

    finite = np.isfinite(scores)
    never_reproduced = scores[finite].max() + 1.0 if finite.any() else 0.0  # ranks below every reproduced image
    return float(roc_auc_score(memorized, -np.where(finite, scores, never_reproduced)))
