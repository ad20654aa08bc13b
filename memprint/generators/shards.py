"""Trained networks sampled in seeded shards: one GPU job per shard, gathered into one image set.

Image ``i`` of a generator draws all its noise from its own generator seeded by (seed, i), so a generator's
samples are the same however they are split into shards or batches and whichever machine runs them, up to float
rounding: kernels may round differently by batch size (at most one grey level on CPU) and GPU runs use bf16.
Latents are N(0, I); ``output_range`` is the range a network's output maps onto 0..255.
"""

from __future__ import annotations

import numpy as np

from memprint import MemprintError
from memprint.generators.base import GeneratorKind, WeightsSource
from memprint.io import ImageSet


def shard_bounds(total: int, shards: int, shard: int) -> tuple[int, int]:
    """Images [start, stop) of shard ``shard`` of ``shards``: near-equal parts, in order."""
    if not 1 <= shards <= total:
        raise MemprintError(f"{shards} shards for {total} samples; use 1 <= shards <= samples")
    if not 0 <= shard < shards:
        raise MemprintError(f"shard {shard} does not exist; a generator with {shards} shards has 0..{shards - 1}")
    return shard * total // shards, (shard + 1) * total // shards


def image_generators(seed: int, start: int, stop: int) -> list:
    """One CPU generator per image, seeded by (seed, image index): samples do not depend on shards, batch size
    or device (noise is drawn on the CPU and moved)."""
    import torch

    states = [np.random.SeedSequence([seed, i]).generate_state(1, dtype=np.uint64)[0] for i in range(start, stop)]
    return [torch.Generator().manual_seed(int(state)) for state in states]


def draw_latents(generators: list, shape: tuple[int, ...]):
    import torch

    return torch.stack([torch.randn(shape, generator=g) for g in generators])


def to_uint8_nhwc(x, low: float, high: float) -> np.ndarray:
    """Network output (N, C, H, W) in [low, high] -> uint8 NHWC, clipped."""
    import torch

    x = ((x.float() - low) / (high - low)).clamp_(0, 1).mul_(255).round_()
    return x.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


class ShardedKind(GeneratorKind):
    """A trained network: ``draw`` maps each image's seeded noise to images; ``weights_source`` says where the
    weights come from, so the pipeline can make or fetch them first."""

    needs = ()
    sharded = True
    group = "loaded networks"
    weights_key: str = ""

    def weights_source(self) -> WeightsSource:
        return WeightsSource("file", self.spec[self.weights_key])

    def draw(self, generators: list, device, batch_size: int, weights: str) -> tuple[np.ndarray, dict]:
        """Images (uint8 NHWC) for the given per-image generators, and what identifies the weights used."""
        raise NotImplementedError

    def sample_shard(self, shard: int, device, batch_size: int, weights: str | None = None) -> ImageSet:
        """Images [start, stop) of shard ``shard`` of ``shards``; ``weights``: where the weights are on this
        machine (the pipeline passes its rule input); default: the configured file."""
        shards = int(self.spec.get("shards", 1))
        start, stop = shard_bounds(int(self.samples), shards, shard)
        if weights is None:
            source = self.weights_source()
            if source.origin != "file":
                raise MemprintError(f"generator {self.name}: its weights are made by the pipeline; pass their path")
            weights = source.value
        import torch

        with torch.no_grad():
            images, identity = self.draw(image_generators(self.seed, start, stop), device, batch_size, weights)
        ids = np.array([f"{self.name}/{i}" for i in range(start, stop)], dtype=object)
        attrs = {
            "source": f"generator:{self.kind}",
            "generator": self.name,
            "generator_spec": self.spec,
            "seed": self.seed,
            "shard": f"{shard}/{shards}",
            "images": f"{start}:{stop}",
            "weights_used": identity,
        }
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
    attrs = {
        key: first[key]
        for key in ("source", "generator", "generator_spec", "seed", "weights_used", "precision")
        if key in first
    }
    attrs["shards"] = len(shards)
    seconds = [s.attrs.get("sample_seconds") for s in shards]
    if all(seconds):
        attrs.update(sample_seconds=float(sum(seconds)), images_per_second=sum(map(len, shards)) / float(sum(seconds)))
    return ImageSet(
        np.concatenate([s.images for s in shards]),
        np.concatenate([s.labels for s in shards]),
        np.concatenate([s.image_ids for s in shards]),
        attrs,
    )
