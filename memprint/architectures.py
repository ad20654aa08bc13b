"""Small generator architectures that published checkpoints use, importable by class path from a config.

``memprint.architectures.MLPGenerator`` and ``memprint.architectures.FCVAE`` match the MNIST GAN and VAE of
csinva/gan-vae-pretrained-pytorch (the two files under ``../shared/assets/mnist_generators/``): their state
dicts load as they are.
"""

from __future__ import annotations

import torch
from torch import nn


class MLPGenerator(nn.Sequential):
    """Latent -> (Linear, ReLU)* -> Linear -> Tanh, as a Sequential so state-dict keys read 0.weight, 2.weight ..."""

    def __init__(self, latent_dim: int = 64, hidden: tuple[int, ...] = (256, 256), out_features: int = 784):
        layers, width = [], latent_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        super().__init__(*layers, nn.Linear(width, out_features), nn.Tanh())


class FCVAE(nn.Module):
    """A fully connected VAE; ``decode`` maps z ~ N(0, I) to pixel probabilities in [0, 1]."""

    def __init__(self, in_features: int = 784, hidden: int = 400, latent_dim: int = 20):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc21 = nn.Linear(hidden, latent_dim)
        self.fc22 = nn.Linear(hidden, latent_dim)
        self.fc3 = nn.Linear(latent_dim, hidden)
        self.fc4 = nn.Linear(hidden, in_features)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(self.fc1(x.flatten(1)))
        return self.fc21(h), self.fc22(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc4(torch.relu(self.fc3(z))))
