"""The paper's pathological generators: each alters ``samples`` images of its ``source`` set (T by default; a
class-stratified, seeded choice) with a pure function of ``memprint.augment``, and records which images it
altered. ``unaltered`` returns them as they are: the baseline, or a perfect generator with ``source: heldout``."""

from __future__ import annotations

import numpy as np

from memprint import MemprintError
from memprint.generators.base import GeneratorKind
from memprint.io import ImageSet


class Unaltered(GeneratorKind):
    kind = "unaltered"
    needs = ("train", "source")

    @property
    def known_answer(self) -> str:
        return "held-out" if self.spec.get("source") == "heldout" else ""

    def check(self, config: dict, train_size: int | None = None) -> None:
        if self.spec.get("source") == "heldout" and not config["data"].get("heldout"):
            raise MemprintError(
                f"config error at generators.{self.name}.source: heldout needs data.heldout (how many real images in "
                "neither T nor P to set aside); set it or use source train or test"
            )

    def alter(self, images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, segment) -> np.ndarray:
        return images

    def sample(self, train, source=None, segment=None) -> ImageSet:
        from memprint.subsets import stratified_indices

        origin = source if source is not None else train
        rng = np.random.default_rng(self.seed)
        rows = stratified_indices(origin.labels, self.samples, self.seed, what=f"{self.kind} samples (its source set)")
        images, labels = origin.images[rows], origin.labels[rows]
        samples = self.image_set(self.alter(images, labels, rng, segment), labels, train, origin.image_ids[rows])
        if source is not None:
            samples.attrs["source_sha256"] = source.content_hash()
        return samples


class Rotate(Unaltered):
    kind = "rotate"
    shift = "low_level"

    def alter(self, images, labels, rng, segment):
        from memprint import augment

        return augment.rotate(images, float(self.spec["angle"]), float(self.spec["fill"]))


class DownUp(Unaltered):
    kind = "down_up"
    shift = "low_level"

    def alter(self, images, labels, rng, segment):
        from memprint import augment

        return augment.down_up(images, int(self.spec["factor"]), self.spec["up_mode"])


class PatchShuffle(Unaltered):
    kind = "patch_shuffle"
    shift = "patch_shuffle"

    def alter(self, images, labels, rng, segment):
        from memprint import augment

        return augment.patch_shuffle(images, int(self.spec["grid"]), rng)


class NoiseBackground(Unaltered):
    """The segmenter's foreground kept exactly, the background replaced by Gaussian noise."""

    kind = "noise_background"
    shift = "background"
    needs = ("train", "source", "segmenter")

    def backgrounds(self, shape: tuple, rng: np.random.Generator) -> np.ndarray:
        from memprint import augment

        return augment.gaussian_backgrounds(shape, rng)

    def alter(self, images, labels, rng, segment):
        from memprint import augment

        if segment is None:
            raise MemprintError(f"{self.kind} needs the segmenter's checkpoint")
        masks = segment(images, labels)
        return augment.composite(images, masks, self.backgrounds(images.shape, rng))


class LandscapeBackground(NoiseBackground):
    """The foreground on random crops of background photos (``backgrounds``: a folder such as BG-20k; none:
    the two real photographs scikit-learn ships)."""

    kind = "landscape_background"
    files = ("backgrounds",)

    def backgrounds(self, shape, rng):
        from memprint import augment
        from memprint.datasets import load_folder

        folder = self.spec.get("backgrounds")
        photos = list(load_folder(folder).images) if folder else augment.offline_landscapes()
        return augment.crop_backgrounds(photos, shape, rng)
