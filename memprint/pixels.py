"""Pixel ranges and depths of image inputs, inferred and checked, so a scale error cannot reverse a verdict (a
copier's images saved as 0..1 in uint8 score C_T +22 instead of -15), and how two image sets are compared:
the same size and colour mode, and no image in both unless that is intended."""

from __future__ import annotations

import hashlib

import numpy as np

from memprint import MemprintError

LOW_DEPTH_MAX = 32  # a whole set of uint8 images below this is 4- or 5-bit data, not dark 0..255 images
CLIPPED_SHARE = 0.05  # more of a network's outputs than this outside its declared range: the range is wrong


def to_uint8(images: np.ndarray, what: str) -> tuple[np.ndarray, str]:
    """Images as uint8 0..255 and the range they were read in: uint8 as is, 16-bit scaled by 1/257, float in
    [0, 1] or [-1, 1] scaled (inferred from the values). uint8 images that never exceed 1 are 0..1 images saved
    as uint8, and anything else is refused with the fix."""
    if images.dtype == np.uint8:
        if images.size and images.max() <= 1:
            raise MemprintError(
                f"{what}: every pixel is 0 or 1, so these are 0..1 images saved as uint8 (C_T would read them as "
                "nearly black); save them as uint8 in 0..255 (multiply by 255)"
            )
        if images.size and images.max() < LOW_DEPTH_MAX:
            raise MemprintError(
                f"{what}: no pixel exceeds {images.max()}, so these are 0..{images.max()} images (a few bits per "
                "pixel) saved as uint8, which C_T would read as nearly black; scale them to 0..255"
            )
        return images, "uint8 0..255"
    if images.dtype == np.uint16:
        if images.size and images.max() <= 255:
            raise MemprintError(
                f"{what}: 16-bit images whose pixels never exceed 255 are 0..255 images, which a 16-bit scale would "
                "read as black; save them as uint8"
            )
        return np.rint(images / 257.0).astype(np.uint8), "uint16 0..65535 (scaled by 1/257)"
    if np.issubdtype(images.dtype, np.floating):
        if not np.isfinite(images).all():
            raise MemprintError(f"{what}: the images hold NaN or infinite values; save finite pixels")
        low, high = float(images.min()), float(images.max())
        if low >= 0 and high <= 1:
            return np.rint(images * 255.0).astype(np.uint8), "float 0..1 (inferred)"
        if low >= -1 and high <= 1:
            return np.rint((images + 1) * 127.5).astype(np.uint8), "float -1..1 (inferred)"
        raise MemprintError(
            f"{what}: float pixels span {low:.3g}..{high:.3g}, neither 0..1 nor -1..1; save uint8 in 0..255"
        )
    raise MemprintError(f"{what}: images of type {images.dtype}; save them as uint8 in 0..255")


def check_clipping(x, low: float, high: float, what: str) -> None:
    """A network whose outputs fall outside its declared ``output_range`` (a Tanh net declared [0, 1]) would be
    clipped into wrong images; refuse when more than 5% of its values lie beyond the range (1% slack)."""
    slack = 0.01 * (high - low)
    outside = float(((x < low - slack) | (x > high + slack)).float().mean())
    if outside > CLIPPED_SHARE:
        raise MemprintError(
            f"{what}: {outside:.0%} of the network's outputs lie outside output_range [{low:g}, {high:g}] (they span "
            f"{float(x.min()):.3g}..{float(x.max()):.3g}); set output_range to the range the network outputs"
        )


def image_hashes(images: np.ndarray) -> np.ndarray:
    """One digest per image (its pixels and shape), to find the same image in two sets."""
    return np.array([hashlib.blake2b(np.ascontiguousarray(im).tobytes(), digest_size=16).hexdigest() for im in images])


def check_same_kind(train, test, what: str = "P") -> None:
    """T and another set must hold images of one size and colour mode, embedded alike."""
    if train.images.shape[1:] != test.images.shape[1:]:
        (h, w, c), (th, tw, tc) = test.images.shape[1:], train.images.shape[1:]
        raise MemprintError(
            f"{what} holds {h}x{w} images with {c} channel(s), T {th}x{tw} with {tc}; give both one size and colour "
            "mode (resize, or convert grey/RGB)"
        )


def overlap(a, b) -> int:
    """How many images of ``b`` are pixel for pixel also in ``a``."""
    return int(np.isin(image_hashes(b.images), image_hashes(a.images)).sum())
