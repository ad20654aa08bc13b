"""A registry of layer-wise memorization scores (``LayerScore``), one small class each, as dgm-eval keeps one file
per metric: ``ct`` (Meehan et al.'s C_T, also under other settings such as the Bai et al. code's),
``ct_effect`` (C_T's per-cell effect size, free of the set sizes), ``ct_modified`` (dgm-eval's C_T with T and Q
swapped) and ``authpct`` (dgm-eval's authenticity).

``score(name, spec)`` binds a config entry to its kind, with the kind's schema defaults filled in.
"""

from memprint.schema import kind_defaults
from memprint.scores import authpct, ct, ct_effect, ct_modified  # noqa: F401 - each module registers its kind
from memprint.scores.base import LayerScore, LayerValue, Resampling, Sizes, bind


def score(name: str, spec: dict) -> LayerScore:
    """The score kind of config entry ``spec`` bound to ``name``; keys the entry leaves out take the schema's
    defaults."""
    kind = LayerScore.kinds.get(spec.get("kind"))
    block = kind.schema if kind is not None else None
    return bind(name, {**kind_defaults("score", spec.get("kind"), block), **spec})


__all__ = ["LayerScore", "LayerValue", "Resampling", "Sizes", "score"]
