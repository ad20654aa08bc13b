"""The generator-kind registry's base class: what a kind needs from the pipeline and how it makes its images.

A kind is one subclass of ``GeneratorKind`` (registered under its ``kind``) plus one schema block,
``$defs/generator_kinds/<kind>`` in ``schemas/config.schema.yaml`` (or the class's ``schema`` for a kind
defined outside memprint, loaded through the config's ``plugins:``). The rules, the config loader, the CLI
and the generator summary ask the registry, never the kind's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from memprint import MemprintError
from memprint.io import ImageSet

PIPELINE_INPUTS = ("train", "source", "segmenter")


@dataclass(frozen=True)
class WeightsSource:
    """Where a sharded kind's weights come from: a ``file`` (or folder) of the config, a ``hub`` id (fetched
    once by a local rule) or a zoo checkpoint ``trained`` by the pipeline (``fields``: model, seed, epoch)."""

    origin: str
    value: str | dict


class GeneratorKind:
    """One kind of generator. Class attributes declare what the pipeline must provide:

    * ``needs``: pipeline image sets and models among ``train`` (T), ``source`` (the set a pathological kind
      alters) and ``segmenter``;
    * ``sharded``: sampled by many seeded ``sample_shard`` jobs (a trained network) and gathered, else made by
      one ``sample`` call;
    * ``diffusion``: a sampler InvMM can invert;
    * ``files``: config keys naming files or folders that must exist before any job runs;
    * ``group``: for a model of the data (trained, fitted or published; not a copy or an alteration of real
      images: the paper's "real generated samples"), which kind of model it is (``fitted models``, ``published
      models`` ...), so the claims about real generated samples are tested on each group separately; empty else;
    * ``shift``: the paper's prediction for a pathological kind's curve against a real model's (``low_level``,
      ``background`` or ``patch_shuffle``; ``memprint.claims``), empty for the others;
    * ``known_answer`` (property): ``copies`` or ``held-out`` where C_T's answer is known in advance.
    """

    kinds: ClassVar[dict[str, type[GeneratorKind]]] = {}
    kind: ClassVar[str] = ""
    schema: ClassVar[dict | None] = None
    needs: ClassVar[tuple[str, ...]] = ("train",)
    sharded: ClassVar[bool] = False
    diffusion: ClassVar[bool] = False
    files: ClassVar[tuple[str, ...]] = ()
    group: ClassVar[str] = ""
    shift: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind:
            unknown = set(cls.needs) - set(PIPELINE_INPUTS)
            if unknown:
                raise TypeError(f"generator kind {cls.kind}: needs {sorted(unknown)}; choose from {PIPELINE_INPUTS}")
            GeneratorKind.kinds[cls.kind] = cls

    def __init__(self, name: str, spec: dict):
        self.name, self.spec = name, spec

    @property
    def samples(self) -> int | None:
        return self.spec.get("samples")

    @property
    def seed(self) -> int:
        return int(self.spec.get("seed", 0))

    @property
    def architecture(self) -> str:
        """Label for fingerprint accuracy."""
        return self.spec.get("architecture", self.kind)

    @property
    def run(self) -> str:
        """The training run it comes from: leave-one-model-out removes the whole run."""
        return self.spec.get("run", self.name)

    @property
    def known_answer(self) -> str:
        return ""

    @property
    def sweep(self) -> float | None:
        """Meehan et al.'s smoothing parameter (a KDE's bandwidth): C_T must rise with it."""
        return None

    @property
    def family(self) -> str:
        """The model family within its group (published models: gan, diffusion ...); empty when not known."""
        return ""

    def input_files(self) -> dict[str, list[str]]:
        """Files the sampling job reads beyond the pipeline's image sets (named inputs of the rule)."""
        return {}

    def downloads(self) -> dict[str, dict]:
        """Files a local rule downloads first: path under results/ -> what the download needs."""
        return {}

    def check(self, config: dict, train_size: int | None = None) -> None:
        """Checks that can run before any job (beyond the schema); raise MemprintError with the fix.
        ``train_size``: how many images T will hold, where the config tells (the loader passes it down)."""

    def sample(self, train: ImageSet | None, source: ImageSet | None = None, segment=None) -> ImageSet:
        """Fit on ``train`` (or alter ``source``) and draw ``samples`` images; ``segment(images, labels)`` gives
        binary foreground masks. Sharded kinds are sampled by ``sample_shard`` instead."""
        raise MemprintError(f"generator {self.name}: {self.kind} models are sampled in shards")

    def image_set(
        self, images: np.ndarray, labels: np.ndarray, train: ImageSet | None, made_from: np.ndarray | None = None
    ) -> ImageSet:
        """The samples with their ids and provenance; ``made_from``: ids of the real images they were made from,
        the ground truth of copying."""
        ids = np.array([f"{self.name}/{i}" for i in range(len(images))], dtype=object)
        attrs = {
            "source": f"generator:{self.kind}",
            "generator": self.name,
            "generator_spec": self.spec,
            "seed": self.seed,
        }
        if train is not None:
            attrs["train_sha256"] = train.content_hash()
        if made_from is not None:
            attrs["made_from_ids"] = [str(i) for i in made_from]
        return ImageSet(images, labels, ids, attrs)


def generator(name: str, spec: dict) -> GeneratorKind:
    """The registered kind of config entry ``spec``, bound to its name."""
    cls = GeneratorKind.kinds.get(spec.get("kind"))
    if cls is None:
        raise MemprintError(
            f"generator {name}: unknown kind {spec.get('kind')!r}; use one of {sorted(GeneratorKind.kinds)}"
        )
    return cls(name, spec)
