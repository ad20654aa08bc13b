"""A zoo of small generators the pipeline trains itself, so a fingerprint benchmark needs nothing downloaded.

Architectures (``arch``): ``dcgan`` (BCE loss, batch norm; Radford et al. 2016), ``wgan_gp`` (Wasserstein loss
with gradient penalty 10, five critic steps per generator step; Gulrajani et al. 2017), ``sngan`` (spectral norm
on the discriminator, hinge loss; Miyato et al. 2018), ``vae`` (convolutional, Gaussian decoder likelihood) and
``ddpm`` (a diffusers ``UNet2DModel`` trained to predict noise over 1,000 steps; sampled with the DDPM, DDIM or
PNDM scheduler by ``memprint.generators.diffusion``). The convolutional nets work for square power-of-two images
of 8 px and up (digits: 8, CIFAR-10: 32), upsampling from 4x4.

Training is seeded (``torch.manual_seed`` and a seeded data order) and runs under the process's precision
(``memprint.runtime.autocast``: bf16 where the device has bf16 units), recorded in every checkpoint. A checkpoint
holds the state dict and everything needed to rebuild the network and sample it.
"""

from __future__ import annotations

import copy
import itertools
import logging
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from memprint import MemprintError
from memprint.runtime import autocast

log = logging.getLogger(__name__)

ZOO_ARCHS = ("dcgan", "wgan_gp", "sngan", "vae", "ddpm")
GAN_ARCHS = ("dcgan", "wgan_gp", "sngan")


def _upsamplings(size: int) -> int:
    steps = math.log2(size / 4) if size >= 8 else -1
    if steps != int(steps) or steps < 1:
        raise MemprintError(
            f"the zoo's networks need square power-of-two images of at least 8 px, got {size}; "
            "resize the training set (e.g. pad 28 -> 32)"
        )
    return int(steps)


class ConvGenerator(nn.Module):
    """z -> 4x4 feature map -> (ConvTranspose, BN, ReLU) per doubling -> 3x3 conv -> tanh (DCGAN-style).

    ``decode`` is the sampling entry point shared with the VAE.
    """

    def __init__(self, latent_dim: int, channels: int, size: int, width: int):
        super().__init__()
        steps = _upsamplings(size)
        widths = [width * 2 ** (steps - i) for i in range(steps + 1)]
        self.project = nn.Sequential(nn.Linear(latent_dim, widths[0] * 16), nn.BatchNorm1d(widths[0] * 16), nn.ReLU())
        layers = []
        for w_in, w_out in itertools.pairwise(widths):
            layers += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1), nn.BatchNorm2d(w_out), nn.ReLU()]
        self.body = nn.Sequential(*layers, nn.Conv2d(widths[-1], channels, 3, 1, 1), nn.Tanh())
        self.first_width = widths[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.project(z).view(len(z), self.first_width, 4, 4))

    forward = decode


class ConvCritic(nn.Module):
    """Image -> strided convs down to 4x4 -> one logit; ``norm`` is batch (DCGAN), spectral (SN-GAN) or none."""

    def __init__(self, channels: int, size: int, width: int, norm: str):
        super().__init__()
        steps = _upsamplings(size)
        wrap = spectral_norm if norm == "spectral" else (lambda m: m)
        layers, w_in = [wrap(nn.Conv2d(channels, width, 3, 1, 1)), nn.LeakyReLU(0.2)], width
        for i in range(steps):
            w_out = width * 2 ** (i + 1)
            layers += [wrap(nn.Conv2d(w_in, w_out, 4, 2, 1))]
            layers += [nn.BatchNorm2d(w_out)] if norm == "batch" else []
            layers += [nn.LeakyReLU(0.2)]
            w_in = w_out
        self.body = nn.Sequential(*layers, nn.Flatten(), wrap(nn.Linear(w_in * 16, 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(1)


class ConvVAE(nn.Module):
    """Encoder as the critic (no norm) to mean and log-variance; decoder as the GAN generator."""

    def __init__(self, latent_dim: int, channels: int, size: int, width: int):
        super().__init__()
        self.encoder = ConvCritic(channels, size, width, norm="none").body[:-1]
        feature = width * 2 ** _upsamplings(size) * 16
        self.to_stats = nn.Linear(feature, 2 * latent_dim)
        self.decoder = ConvGenerator(latent_dim, channels, size, width)

    def forward(self, x):
        mean, logvar = self.to_stats(self.encoder(x)).chunk(2, dim=1)
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        return self.decoder(z), mean, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


def build_unet(channels: int, size: int, width: int):
    from diffusers import UNet2DModel

    levels = min(_upsamplings(size) + 1, 3)
    return UNet2DModel(
        sample_size=size,
        in_channels=channels,
        out_channels=channels,
        layers_per_block=2,
        block_out_channels=tuple(width * 2**i for i in range(levels)),
        down_block_types=("DownBlock2D",) * (levels - 1) + ("AttnDownBlock2D",),
        up_block_types=("AttnUpBlock2D",) + ("UpBlock2D",) * (levels - 1),
        norm_num_groups=min(8, width),
    )


def build_network(arch: str, channels: int, size: int, width: int, latent_dim: int) -> nn.Module:
    """The network that samples: GAN generator, VAE (decode) or UNet."""
    if arch in GAN_ARCHS:
        return ConvGenerator(latent_dim, channels, size, width)
    if arch == "vae":
        return ConvVAE(latent_dim, channels, size, width)
    if arch == "ddpm":
        return build_unet(channels, size, width)
    raise MemprintError(f"zoo architecture {arch!r} is unknown; use one of {ZOO_ARCHS}")


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n - batch_size + 1, batch_size)] or [order]


def _gradient_penalty(critic, real, fake):
    alpha = torch.rand(len(real), 1, 1, 1, device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


@torch.no_grad()
def _update_average(average: nn.Module, net: nn.Module, decay: float) -> None:
    for kept, current in zip(average.parameters(), net.parameters()):
        kept.lerp_(current, 1.0 - decay)
    for kept, current in zip(average.buffers(), net.buffers()):
        kept.copy_(current)


def train_zoo_model(
    spec: dict, images_uint8: np.ndarray, seed: int, checkpoints: list[int], device: torch.device, save
) -> dict:
    """Train ``spec['arch']`` on NHWC uint8 images for max(checkpoints) epochs; ``save(epoch, payload)`` at each.
    ``spec['ema']``: checkpoints hold an exponential moving average of the weights (buffers copied), which
    samples markedly better than the last step's GAN weights; ``spec['flip']``: random horizontal flips.

    Returns timing and final losses for the zoo summary.
    """
    from tqdm import tqdm

    arch, width, latent = spec["arch"], int(spec["width"]), int(spec.get("latent_dim", 64))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n, size, _, channels = images_uint8.shape
    if images_uint8.shape[1] != images_uint8.shape[2]:
        raise MemprintError(f"zoo training needs square images, got {images_uint8.shape[1:3]}")
    data = torch.from_numpy(images_uint8).permute(0, 3, 1, 2).float().div(127.5).sub(1).to(device)
    net = build_network(arch, channels, size, width, latent).to(device)
    lr, batch_size = float(spec.get("lr", 2e-4)), int(spec.get("batch_size", 64))
    betas = (0.0, 0.9) if arch in ("wgan_gp", "sngan") else (0.5, 0.999) if arch == "dcgan" else (0.9, 0.999)
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=betas)
    decay = spec.get("ema")
    average = copy.deepcopy(net).eval().requires_grad_(False) if decay else None
    critic = None
    if arch in GAN_ARCHS:
        norm = {"dcgan": "batch", "wgan_gp": "none", "sngan": "spectral"}[arch]
        critic = ConvCritic(channels, size, width, norm).to(device)
        opt_critic = torch.optim.Adam(critic.parameters(), lr=lr, betas=betas)
    described = {"arch": arch, "channels": channels, "size": size, "width": width, "latent_dim": latent, "seed": seed}
    described |= {"ema": decay, "flip": bool(spec.get("flip"))}
    if arch == "ddpm":
        from diffusers import DDPMScheduler

        noise_schedule = DDPMScheduler()  # diffusers' default: 1,000 linear-beta steps, saved with the checkpoint
        alphas = noise_schedule.alphas_cumprod.to(device)
        timesteps = noise_schedule.config.num_train_timesteps
        described["noise_schedule"] = dict(noise_schedule.config)
    critic_steps = 5 if arch == "wgan_gp" else 1
    started, losses, step = time.perf_counter(), {}, 0
    for epoch in tqdm(range(1, max(checkpoints) + 1), desc=f"train {arch} seed {seed}", mininterval=10):
        net.train()
        for idx in _batches(n, batch_size, rng):
            real = data[torch.from_numpy(idx).to(device)]
            if spec.get("flip"):
                real = torch.where(torch.rand(len(real), 1, 1, 1, device=device) < 0.5, real.flip(-1), real)
            with autocast(device):
                if critic is not None:
                    z = torch.randn(len(real), latent, device=device)
                    fake = net(z)
                    d_real, d_fake = critic(real), critic(fake.detach())
                    if arch == "dcgan":
                        d_loss = F.binary_cross_entropy_with_logits(
                            d_real, torch.ones_like(d_real)
                        ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
                    elif arch == "sngan":
                        d_loss = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
                    else:
                        d_loss = (
                            d_fake.mean() - d_real.mean() + 10 * _gradient_penalty(critic, real, fake.detach().float())
                        )
                    opt_critic.zero_grad(set_to_none=True)
                    d_loss.backward()
                    opt_critic.step()
                    losses["critic"] = d_loss.detach()  # read once at the end: no GPU sync per step
                    step += 1
                    if step % critic_steps:
                        continue
                    g_out = critic(net(torch.randn(len(real), latent, device=device)))
                    loss = (
                        F.binary_cross_entropy_with_logits(g_out, torch.ones_like(g_out))
                        if arch == "dcgan"
                        else -g_out.mean()
                    )
                elif arch == "vae":
                    recon, mean, logvar = net(real)
                    kl = -0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum(1).mean()
                    loss = F.mse_loss(recon.float(), real, reduction="none").flatten(1).sum(1).mean() / 0.1 + kl
                else:
                    noise = torch.randn_like(real)
                    t = torch.randint(0, timesteps, (len(real),), device=device)
                    a = alphas[t].view(-1, 1, 1, 1)
                    loss = F.mse_loss(net(a.sqrt() * real + (1 - a).sqrt() * noise, t).sample.float(), noise)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses["model"] = loss.detach()
            if average is not None:
                _update_average(average, net, decay)
        if epoch in checkpoints:
            state = (average or net).state_dict()
            save(epoch, {**described, "epoch": epoch, "state_dict": {k: v.detach().cpu() for k, v in state.items()}})
    return {"train_seconds": time.perf_counter() - started, **{f"final_{k}_loss": float(v) for k, v in losses.items()}}


def load_zoo_checkpoint(path: str) -> tuple[nn.Module, dict]:
    """The sampling network of a zoo checkpoint, in eval mode, and its description."""
    from memprint.checkpoints import load_checkpoint

    keys = ("arch", "channels", "size", "width", "latent_dim", "state_dict")
    payload = load_checkpoint(path, "zoo checkpoint", keys)
    net = build_network(payload["arch"], payload["channels"], payload["size"], payload["width"], payload["latent_dim"])
    net.load_state_dict(payload["state_dict"])
    return net.eval(), {k: v for k, v in payload.items() if k != "state_dict"}
