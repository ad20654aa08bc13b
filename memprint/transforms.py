"""Image transforms by name, pure functions on uint8 NHWC arrays: the copy finder matches each generated image
(and each test image, so the calibration stays exact) under the configured ones, and the copy finder's
validation plants training images edited by them.

Names carry their parameter: ``identity``, ``hflip``, ``rotate_15`` (degrees, counter-clockwise; the corners
are cropped away, not filled, so a rotation does not add black corners), ``crop_0.8`` (the centre 80%, resized
back), ``jitter_0.3`` (brightness, contrast and saturation scaled by 1 + 0.3 and hue turned by 0.3 x 60
degrees), ``jpeg_30`` (JPEG quality 30), ``grey`` (luminance in every channel). Two undo an edit that a query-side
transform cannot otherwise reverse: ``zoom_1.25`` shrinks the image by 1.25 and pads it with its edge pixels
(a copy cropped to its centre 80% and resized back is shown at the training image's scale again), and
``unrotate_-15`` zooms out by the corner crop of ``rotate_15`` and turns by -15 degrees (a copy made by
``rotate_15`` comes back upright at its scale).

An edit that loses pixels (a crop, a rotation's corners) is undone exactly only on the training side: a matching
label ``T:crop_0.8`` embeds T under ``crop_0.8`` (once) and matches Q and P as they are against it.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np

from memprint import MemprintError
from memprint.schema import raw

NAME = re.compile(raw()["properties"]["copies"]["properties"]["transforms"]["items"]["pattern"])  # one spelling


TRAINING_SIDE = "T:"


def sides(label: str) -> tuple[str, str]:
    """(the edit of Q and P, the edit of T) a matching label stands for: ``hflip`` -> (hflip, identity),
    ``T:crop_0.8`` -> (identity, crop_0.8)."""
    if label.startswith(TRAINING_SIDE):
        return "identity", label[len(TRAINING_SIDE) :]
    return label, "identity"


PARAMETER_RANGES = {  # kind -> (lowest allowed, highest allowed, low end excluded?, what it means)
    "crop": (0.0, 1.0, True, "the kept share of the image, in (0, 1]"),
    "zoom": (1.0, 8.0, True, "a zoom-out factor, in (1, 8]"),
    "jpeg": (1, 100, False, "a JPEG quality, 1..100"),
    "jitter": (0.0, 1.0, False, "a strength, 0..1"),
}


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise MemprintError(
            f"transform {name!r} is unknown; use identity, hflip, grey, rotate_<degrees>, unrotate_<degrees>, "
            "crop_<fraction>, zoom_<factor above 1>, jitter_<strength> or jpeg_<quality>"
        )
    kind, _, value = name.partition("_")
    if kind in PARAMETER_RANGES:
        low, high, open_low, meaning = PARAMETER_RANGES[kind]
        number = float(value)
        if number > high or number < low or (open_low and number == low):
            raise MemprintError(f"transform {name!r}: {value} is out of range; give {meaning}")
    return name


def _resize(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def _centre_crop(images: np.ndarray, fraction: float) -> np.ndarray:
    height, width = images.shape[1:3]
    h, w = max(1, round(height * fraction)), max(1, round(width * fraction))
    top, left = (height - h) // 2, (width - w) // 2
    return _resize(images[:, top : top + h, left : left + w], (height, width))


def _zoom_out(images: np.ndarray, factor: float) -> np.ndarray:
    """Shrink by ``factor`` (> 1) and pad back to the size with the edge pixels."""
    height, width = images.shape[1:3]
    h, w = max(1, round(height / factor)), max(1, round(width / factor))
    small = _resize(images, (h, w))
    top, left = (height - h) // 2, (width - w) // 2
    return np.pad(small, ((0, 0), (top, height - h - top), (left, width - w - left), (0, 0)), mode="edge")


def _corner_crop(degrees: float) -> float:
    """The share of the side a rotation by ``degrees`` keeps free of its corners."""
    angle = math.radians(abs(degrees) % 90)
    return 1.0 / (math.cos(angle) + math.sin(angle))


def _unrotate(images: np.ndarray, degrees: float) -> np.ndarray:
    """Undo ``rotate_(-degrees)``: zoom out by its corner crop, then turn by ``degrees``."""
    from memprint.augment import rotate

    return rotate(_zoom_out(images, 1.0 / _corner_crop(degrees)), degrees)


def _rotate(images: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate, then crop the largest centred square free of the corners and resize it back."""
    from memprint.augment import rotate

    return _centre_crop(rotate(images, degrees), _corner_crop(degrees))


def _jitter(images: np.ndarray, strength: float) -> np.ndarray:
    from memprint.augment import recolour

    x = images.astype(np.float32)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    x = (x - mean) * (1 + strength) + mean * (1 + strength)  # contrast, then brightness
    if images.shape[-1] == 3:
        grey = x.mean(axis=-1, keepdims=True)
        x = grey + (x - grey) * (1 + strength)  # saturation
    out = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return recolour(out, 60 * strength)


def _jpeg(images: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    out = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(buffer, "JPEG", quality=quality)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
        out.append(decoded[..., None] if decoded.ndim == 2 else decoded)
    return np.stack(out)


def apply(name: str, images: np.ndarray) -> np.ndarray:
    """``images`` under transform ``name``."""
    kind, _, value = check_name(name).partition("_")
    if kind == "identity":
        return images
    if kind == "hflip":
        return np.ascontiguousarray(images[:, :, ::-1])
    if kind == "grey":
        grey = (
            np.rint(images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))
            if images.shape[-1] == 3
            else images[..., 0]
        )
        return np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], images.shape[-1], axis=-1)
    if kind == "rotate":
        return _rotate(images, float(value))
    if kind == "unrotate":
        return _unrotate(images, float(value))
    if kind == "zoom":
        return _zoom_out(images, float(value))
    if kind == "crop":
        return _centre_crop(images, float(value))
    if kind == "jitter":
        return _jitter(images, float(value))
    return _jpeg(images, int(value))
