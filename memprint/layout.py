"""Where every result lives, relative to the working folder: one function per kind of file. The rules use them
for inputs, outputs and params alike (a wildcard is passed as its own ``{name}``), the stages and the CLI for
their defaults, so a path is spelled once."""

from __future__ import annotations

RESULTS = "results"


def imageset(name: str) -> str:
    """An image set: ``train``, ``test``, ``heldout`` or a generator's samples."""
    return f"{RESULTS}/imagesets/{name}.h5"


def embedding(encoder: str, imageset_name: str) -> str:
    return f"{RESULTS}/embeddings/{encoder}/{imageset_name}.h5"


def score_reference(score: str, encoder: str) -> str:
    """What a score fits on T and P, per layer, shared by every generator."""
    return f"{RESULTS}/scores/{score}/{encoder}/reference.h5"


def score_curve(score: str, encoder: str, generator: str) -> str:
    """One generator's score per layer with its 95% interval (columns value, low, high)."""
    return f"{RESULTS}/scores/{score}/{encoder}/{generator}.csv"


def score_replicates(score: str, encoder: str, generator: str) -> str:
    """The bootstrap replicate curves behind a score curve's interval."""
    return f"{RESULTS}/scores/{score}/{encoder}/{generator}.bootstrap.h5"


def transformed_embedding(encoder: str, transform: str, imageset_name: str) -> str:
    """An image set's embedding under one of the copy finder's transforms."""
    return f"{RESULTS}/embeddings/{encoder}/transformed/{transform}/{imageset_name}.h5"


def copies(encoder: str, generator: str, what: str = "layers") -> str:
    """The copy finder's tables of one generator: ``layers`` (per image, layer and transform), ``images`` (one
    flag per image) or ``flagged`` (the auditor's list)."""
    suffix = "" if what == "layers" else f".{what}"
    return f"{RESULTS}/copies/{encoder}/{generator}{suffix}.csv"


def fingerprint_curves(score: str, encoder: str, generator: str) -> str:
    """The score-layer curves of a generator's fingerprint protocol sets."""
    return f"{RESULTS}/fingerprint/{score}/{encoder}/curves/{generator}.csv"


def figure(name: str, extension: str, encoder: str | None = None) -> str:
    return f"{RESULTS}/figures/{encoder + '/' if encoder else ''}{name}.{extension}"


def benchmark(rule: str, *parts: str) -> str:
    return f"{RESULTS}/benchmarks/{'/'.join((rule, *parts))}.tsv"


def log(rule: str, *parts: str) -> str:
    return f"logs/{'/'.join((rule, *parts))}.log"
