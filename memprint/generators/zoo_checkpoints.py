"""The zoo's own checkpoints as generators: each zoo model x training seed x checkpoint epoch (x sampler, for
a DDPM) that ``memprint.config`` expands from the ``zoo:`` section. The checkpoint is made by the pipeline's
``train_zoo_model`` rule and carries everything needed to rebuild and sample its network."""

from __future__ import annotations

from memprint import MemprintError
from memprint.generators.base import WeightsSource
from memprint.generators.diffusion import make_scheduler, sample_diffusion
from memprint.generators.networks import sample_module
from memprint.generators.shards import ShardedKind
from memprint.io import sha256_file


def load_zoo(weights: str) -> tuple:
    """A zoo checkpoint's sampling network, its description, and what identifies its weights."""
    from memprint.zoo import load_zoo_checkpoint

    network, described = load_zoo_checkpoint(weights)
    return network, described, {**described, "weights": weights, "weights_sha256": sha256_file(weights)}


class ZooCheckpoint(ShardedKind):
    kind = "zoo"
    group = "zoo models (trained here)"

    @property
    def diffusion(self) -> bool:  # a zoo DDPM (it has a sampler) is one; its GANs and VAEs are not
        return bool(self.spec.get("scheduler"))

    def check(self, config: dict, train_size: int | None = None) -> None:
        if self.spec["model"] not in config.get("zoo", {}).get("models", {}):
            raise MemprintError(f"generators.{self.name}.model: {self.spec['model']!r} is not a model of zoo.models")

    def weights_source(self) -> WeightsSource:
        return WeightsSource("trained", {key: self.spec[key] for key in ("model", "train_seed", "epoch")})

    def load_diffusion(self, weights: str):
        network, described, identity = load_zoo(weights)
        if described["arch"] != "ddpm":
            raise MemprintError(f"zoo checkpoint {weights} holds a {described['arch']}, not a diffusion model")
        return network, described["noise_schedule"], identity

    def draw(self, generators, device, batch_size, weights):
        network, described, identity = load_zoo(weights)
        if described["arch"] == "ddpm":
            scheduler = make_scheduler(self.spec["scheduler"], int(self.spec["steps"]), described["noise_schedule"])
            return sample_diffusion(network, scheduler, generators, device, batch_size, 0.0), identity
        sampling = {"method": "decode", "latent_shape": [described["latent_dim"]], "output_range": [-1.0, 1.0]}
        return sample_module(network, sampling, generators, device, batch_size), identity
