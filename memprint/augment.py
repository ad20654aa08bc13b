"""The paper's five "pathological generators": pure functions from uint8 NHWC images to altered images.

Rotation and down-then-up sampling perturb low-level information (colour, texture, fine detail); putting the
segmented foreground on Gaussian noise or on landscape backgrounds keeps the high-level content (the object)
and replaces the rest; a 4x4 patch shuffle keeps every pixel but destroys the layout.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from memprint import MemprintError


def _to_float(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def rotate(images: np.ndarray, angle: float, fill: float = 0.0) -> np.ndarray:
    """Rotate every image by ``angle`` degrees (counter-clockwise, bilinear); corners become ``fill`` (0..255)."""
    if angle % 360 == 0:
        return images.copy()
    from torchvision.transforms.functional import InterpolationMode
    from torchvision.transforms.functional import rotate as tv_rotate

    out = tv_rotate(_to_float(images), angle, interpolation=InterpolationMode.BILINEAR, fill=[float(fill)])
    return _to_uint8(out)


def down_up(images: np.ndarray, factor: int, up_mode: str = "bilinear") -> np.ndarray:
    """Downsample by ``factor`` (antialiased), then upsample back (``bilinear`` or ``bicubic``)."""
    if up_mode not in ("bilinear", "bicubic"):
        raise MemprintError(f"down_up: up_mode {up_mode!r} is unknown; use bilinear or bicubic")
    if factor == 1:
        return images.copy()
    h, w = images.shape[1:3]
    if factor < 1 or h % factor or w % factor:
        raise MemprintError(f"down_up: factor {factor} must be a positive divisor of the image size {h}x{w}")
    x = _to_float(images)
    small = F.interpolate(x, size=(h // factor, w // factor), mode="bilinear", antialias=True, align_corners=False)
    return _to_uint8(F.interpolate(small, size=(h, w), mode=up_mode, align_corners=False))


def patch_shuffle(images: np.ndarray, grid: int, rng: np.random.Generator) -> np.ndarray:
    """Cut each image into grid x grid equal patches and put them back in a random (seeded) order."""
    n, h, w, c = images.shape
    if h % grid or w % grid:
        raise MemprintError(f"patch_shuffle: the image size {h}x{w} is not divisible by the grid {grid}")
    ph, pw = h // grid, w // grid
    patches = images.reshape(n, grid, ph, grid, pw, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, grid * grid, ph, pw, c)
    order = np.argsort(rng.random((n, grid * grid)), axis=1)
    shuffled = np.take_along_axis(patches, order[:, :, None, None, None], axis=1)
    return shuffled.reshape(n, grid, grid, ph, pw, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h, w, c)


def composite(images: np.ndarray, masks: np.ndarray, backgrounds: np.ndarray) -> np.ndarray:
    """Foreground (mask 1) from ``images``, the rest from ``backgrounds``; foreground pixels stay bit-identical."""
    masks = np.asarray(masks)
    if masks.shape != images.shape[:3] or not np.isin(masks, (0, 1)).all():
        raise MemprintError(f"composite: masks must be binary with shape {images.shape[:3]}, got {masks.shape}")
    if backgrounds.shape != images.shape:
        raise MemprintError(f"composite: backgrounds {backgrounds.shape} must match images {images.shape}")
    return np.where(masks[..., None].astype(bool), images, backgrounds).astype(np.uint8)


def gaussian_backgrounds(shape: tuple, rng: np.random.Generator, mean: float = 127.5, std: float = 64.0) -> np.ndarray:
    """Independent Gaussian pixel noise, clipped to 0..255."""
    return np.clip(np.rint(rng.normal(mean, std, size=shape)), 0, 255).astype(np.uint8)


def crop_backgrounds(photos: list[np.ndarray], shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Random square crops of ``photos`` (H, W, 3 uint8), resized to the images' size, as backgrounds.

    Crops span a quarter of the shorter side, so each keeps the look of a landscape patch rather than a texture.
    """
    n, h, w, c = shape
    out = np.empty(shape, np.uint8)
    for i in range(n):
        photo = photos[rng.integers(len(photos))]
        side = max(h, min(photo.shape[:2]) // 4)
        y, x = rng.integers(0, photo.shape[0] - side + 1), rng.integers(0, photo.shape[1] - side + 1)
        crop = _to_float(photo[None, y : y + side, x : x + side])
        crop = F.interpolate(crop, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
        if c == 1:
            crop = crop.mean(dim=1, keepdim=True)
        out[i] = _to_uint8(crop)[0]
    return out


def offline_landscapes() -> list[np.ndarray]:
    """Real photographs available without a download: the two that scikit-learn ships (a temple landscape and
    a flower). BG-20k or any folder replaces them in real runs."""
    from sklearn.datasets import load_sample_images

    return list(load_sample_images().images)


def recolour(images: np.ndarray, hue_degrees: float) -> np.ndarray:
    """Rotate every colour's hue by ``hue_degrees`` about the grey axis (brightness kept); grey images unchanged."""
    if images.shape[-1] != 3 or hue_degrees % 360 == 0:
        return images.copy()
    angle = np.deg2rad(hue_degrees)
    cos, sin, third = np.cos(angle), np.sin(angle), 1.0 / 3.0
    root = np.sqrt(third)
    matrix = np.array(
        [
            [cos + (1 - cos) * third, third * (1 - cos) - root * sin, third * (1 - cos) + root * sin],
            [third * (1 - cos) + root * sin, cos + third * (1 - cos), third * (1 - cos) - root * sin],
            [third * (1 - cos) - root * sin, third * (1 - cos) + root * sin, cos + third * (1 - cos)],
        ]
    )
    out = images.astype(np.float32) @ matrix.T.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
