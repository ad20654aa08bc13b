"""Generators the pipeline fits itself on T, so the default needs nothing downloaded.

Meehan et al. (2020) validate C_T with Gaussian kernel density estimators: a small bandwidth reproduces the
training images (data copying, C_T << 0), a large one over-smooths (underfitting, C_T > 0). All models work in
pixel space scaled to [0, 1] and write uint8 images, clipped to the valid range.
"""

from __future__ import annotations

import numpy as np

from memprint import MemprintError
from memprint.generators.base import GeneratorKind
from memprint.io import ImageSet


def to_unit(images: np.ndarray) -> np.ndarray:
    return images.astype(np.float32) / 255.0


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def noisy_copies(train: ImageSet, n: int, sigma: float, rng: np.random.Generator):
    """Training images drawn uniformly plus isotropic Gaussian pixel noise; the rows they came from."""
    source = rng.integers(0, len(train), size=n)
    x = to_unit(train.images[source])
    x += rng.normal(0.0, sigma, size=x.shape).astype(np.float32)
    return to_uint8(x), train.labels[source], source


class KDE(GeneratorKind):
    """A training image drawn uniformly plus Gaussian noise of standard deviation ``bandwidth``."""

    kind = "kde"

    @property
    def sweep(self) -> float:
        return float(self.spec["bandwidth"])

    def sample(self, train, source=None, segment=None) -> ImageSet:
        rng = np.random.default_rng(self.seed)
        images, labels, rows = noisy_copies(train, self.samples, float(self.spec["bandwidth"]), rng)
        return self.image_set(images, labels, train, train.image_ids[rows])


class Copier(GeneratorKind):
    """A training image returned verbatim up to pixel noise ``noise``: the degenerate KDE a memorizing model
    approaches, the reference case of data copying."""

    kind = "copier"
    known_answer = "copies"

    def sample(self, train, source=None, segment=None) -> ImageSet:
        rng = np.random.default_rng(self.seed)
        images, labels, rows = noisy_copies(train, self.samples, float(self.spec["noise"]), rng)
        return self.image_set(images, labels, train, train.image_ids[rows])


class GMM(GeneratorKind):
    """A Gaussian mixture of ``components`` fit to the flattened training images."""

    kind = "gmm"
    group = "fitted models"

    def check(self, config: dict, train_size: int | None = None) -> None:
        size = train_size
        if size is not None and self.spec["components"] > size:
            raise MemprintError(
                f"config error at generators.{self.name}.components: {self.spec['components']} components for "
                f"{size} training images; use fewer components"
            )

    def sample(self, train, source=None, segment=None) -> ImageSet:
        from sklearn.mixture import GaussianMixture

        flat = to_unit(train.images).reshape(len(train), -1)
        components, n = int(self.spec["components"]), self.samples
        if components > len(flat):
            raise MemprintError(f"gmm: {components} components for {len(flat)} training images; use fewer components")
        gmm = GaussianMixture(
            n_components=components, covariance_type=self.spec["covariance"], random_state=self.seed, reg_covar=1e-4
        )
        gmm.fit(flat)
        samples, _ = gmm.sample(n)
        order = np.random.default_rng(self.seed).permutation(n)  # sklearn returns samples grouped by component
        images = to_uint8(samples[order].reshape((n, *train.images.shape[1:])))
        return self.image_set(images, np.full(n, -1, np.int64), train)
