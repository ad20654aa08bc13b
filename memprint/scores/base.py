"""The layer-score registry's base: a memorization score computed on every layer's embeddings.

A score kind is one subclass of ``LayerScore`` (registered under its ``kind``) plus one schema block,
``$defs/score_kinds/<kind>`` (or the class's ``schema`` for a kind defined outside memprint, loaded through the
config's ``plugins:``). Per layer, ``fit`` computes what depends on T and P only, once for every generator (the
pipeline stores it in the score's reference file), and ``score`` scores one generated set Q, with bootstrap
replicates for its 95% interval when asked: the rules, the figures, the fingerprints and the claims read any
score's curves (``value``, ``low``, ``high`` per layer) and never a kind's name.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from memprint import MemprintError


@dataclass(frozen=True)
class Resampling:
    """The bootstrap behind every interval: ``replicates`` multisets of P (one stream shared by every generator)
    and of Q (a stream per generator), so replicate b of two curves shares P's resample."""

    replicates: int
    seed: int
    generator: str

    def counts(self, n: int, stream: str) -> np.ndarray:
        """(replicates, n) bootstrap counts of n items, from the stream ``stream`` (``test`` or ``generated``)."""
        name = "test" if stream == "test" else f"generated:{self.generator}"
        rng = np.random.default_rng([self.seed, zlib.crc32(name.encode())])
        return rng.multinomial(n, np.full(n, 1.0 / n), size=self.replicates).astype(np.float64)


@dataclass(frozen=True)
class Sizes:
    """What the config tells of the sets a score will see (None where unknown before the data step): T, P, each
    generator's sample count, and the smallest fingerprint set (None without fingerprinting)."""

    train: int | None
    test: int | None
    samples: dict[str, int | None]
    fingerprint_set: int | None = None


def config_error(key: str, text: str) -> MemprintError:
    return MemprintError(f"config error at {key}: {text}")


@dataclass
class LayerValue:
    """One layer's score: the value (NaN where undefined), its bootstrap replicates (None without resampling) and
    the kind's own detail (extra CSV columns)."""

    value: float
    replicates: np.ndarray | None = None
    detail: dict = field(default_factory=dict)


class LayerScore:
    """One kind of layer-wise score. ``copies``: its reference (C_T's cells and P's distances) is what the copy
    finder searches in; ``claims``: the paper's C_T claims apply to it; ``meaning``: what its
    sign or size says, for captions."""

    kinds: ClassVar[dict[str, type[LayerScore]]] = {}
    kind: ClassVar[str] = ""
    schema: ClassVar[dict | None] = None
    copies: ClassVar[bool] = False
    claims: ClassVar[bool] = False
    meaning: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.kind:
            LayerScore.kinds[cls.kind] = cls

    def __init__(self, name: str, spec: dict):
        self.name, self.spec = name, spec

    def settings(self) -> dict:
        """What changes the score (its spec without the kind), for provenance."""
        return {k: v for k, v in self.spec.items() if k != "kind"}

    def check(self, key: str, sizes: Sizes) -> None:
        """Checks before any job (``key``: where the config names this score); raise MemprintError with the fix."""

    def fit(self, train: np.ndarray, test: np.ndarray, device, layer: str) -> tuple[dict[str, np.ndarray], str]:
        """What depends on T and P only: arrays stored in the reference file, and a warning ('' when none) that
        marks the layer undefined."""
        return {}, ""

    def score(
        self,
        state: dict,
        train: np.ndarray,
        test: np.ndarray,
        generated: np.ndarray,
        device,
        layer: str,
        resampling: Resampling | None = None,
    ) -> LayerValue:
        raise NotImplementedError


def bind(name: str, spec: dict) -> LayerScore:
    """The score kind of config entry ``spec`` bound to ``name``."""
    cls = LayerScore.kinds.get(spec.get("kind"))
    if cls is None:
        raise MemprintError(
            f"score {name}: kind {spec.get('kind')!r} is unknown; use one of {sorted(LayerScore.kinds)}"
        )
    return cls(name, spec)
