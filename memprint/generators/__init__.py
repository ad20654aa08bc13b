"""A registry of generator kinds (``GeneratorKind``), one small class each:

* fitted on T by the pipeline (``memprint.generators.fitted``): ``kde``, ``copier``, ``gmm``;
* the paper's pathological alterations of a source set (``altered``): ``unaltered``, ``rotate``, ``down_up``,
  ``patch_shuffle``, ``noise_background``, ``landscape_background``;
* images generated elsewhere (``existing``): ``samples``; published models' committed sample grids
  (``published``): ``published``;
* trained networks sampled in seeded shards (``shards``): ``diffusion``, ``module``, ``torchscript`` and the
  pipeline's own ``zoo`` checkpoints.

``generator(name, spec)`` binds a config entry to its kind, with the kind's schema defaults filled in.
"""

from memprint.generators import (  # noqa: F401 - each module registers its kinds
    altered,
    diffusion,
    existing,
    fitted,
    networks,
    published,
    zoo_checkpoints,
)
from memprint.generators.base import GeneratorKind, WeightsSource
from memprint.generators.base import generator as _bind
from memprint.generators.shards import ShardedKind, gather_shards, shard_bounds
from memprint.schema import kind_defaults


def generator(name: str, spec: dict) -> GeneratorKind:
    """The kind of config entry ``spec`` bound to ``name``; keys the entry leaves out take the schema defaults."""
    kind = GeneratorKind.kinds.get(spec.get("kind"))
    block = kind.schema if kind is not None else None
    return _bind(name, {**kind_defaults("generator", spec.get("kind"), block), **spec})


__all__ = ["GeneratorKind", "ShardedKind", "WeightsSource", "gather_shards", "generator", "shard_bounds"]
