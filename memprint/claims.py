"""The paper's claims as statistics with 95% intervals and computed verdicts.

Each claim is a number whose sign the paper predicts. Its interval comes from the bootstrap replicate curves of
``memprint.ct_interval`` (replicate b of every generator shares P's resample, each Q is resampled on its own
stream); claims over several generators also resample the generators. Fingerprint accuracy differences use the
cluster bootstrap over generators of ``memprint.fingerprint``. The verdict is read off the interval: confirmed
when it lies on the claimed side of 0, contradicted when it lies on the other side, inconclusive otherwise, and
not applicable (with the reason) when the configuration lacks the generators a claim needs.

What a claim needs to know of a generator (``Role``) is read off its kind, never its kind's name. Layers: 1..L
are the blocks (layer 0, the patch embedding, is left out as in the fingerprints); "early" is the first third of
the blocks, "late" the last third.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memprint.ct_interval import percentile_interval

SHIFTS = {  # a pathological kind's shift -> what the paper predicts for it against a real model's curve
    "low_level": ("shifts the early layers more than the late ones", 1, "early - late"),
    "background": ("drops the relative C_T at the last layer", -1, "last - other layers"),
    "patch_shuffle": ("leaves the early layers near the baseline, deeper layers rise", 1, "late - early"),
}


@dataclass
class Curve:
    """One generator's C_T over layers 0..L and its bootstrap replicates, (B, L + 1)."""

    point: np.ndarray
    replicates: np.ndarray


@dataclass(frozen=True)
class Role:
    """What the claims use of one generator: its group of real models (empty: not a model of the data), family,
    architecture, pathological shift, smoothing parameter and known answer (see ``GeneratorKind``)."""

    kind: str
    group: str = ""
    family: str = ""
    architecture: str = ""
    shift: str = ""
    sweep: float | None = None
    known_answer: str = ""

    @classmethod
    def of(cls, generator) -> Role:
        return cls(
            generator.kind,
            generator.group,
            generator.family,
            generator.architecture,
            generator.shift,
            generator.sweep,
            generator.known_answer,
        )


def verdict(low: float, high: float, sign: int) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
    if (low > 0 and sign > 0) or (high < 0 and sign < 0):
        return "confirmed"
    if (high < 0 and sign > 0) or (low > 0 and sign < 0):
        return "contradicted"
    return "inconclusive"


def row(claim_id: str, claim: str, subject: str, statistic: str, sign: int, generators, estimate, replicates) -> dict:
    low, high = (
        (float(v) for v in percentile_interval(replicates)) if np.isfinite(replicates).any() else (np.nan, np.nan)
    )
    return {
        "id": claim_id,
        "claim": claim,
        "subject": subject,
        "statistic": statistic,
        "claimed_sign": ">0" if sign > 0 else "<0",
        "generators": ", ".join(generators),
        "estimate": float(estimate),
        "ci_low": low,
        "ci_high": high,
        "verdict": verdict(low, high, sign),
        "reason": "",
    }


def not_applicable(claim_id: str, claim: str, subject: str, statistic: str, sign: int, reason: str) -> dict:
    return {
        **row(claim_id, claim, subject, statistic, sign, [], np.nan, np.array([np.nan])),
        "verdict": "not applicable",
        "reason": reason,
    }


def _thirds(layers: int) -> tuple[np.ndarray, np.ndarray]:
    third = max(1, -(-layers // 3))
    blocks = np.arange(1, layers + 1)
    return blocks[:third], blocks[-third:]


def _slope(curves: np.ndarray) -> np.ndarray:
    """Least-squares slope of C_T over layers 1..L, per row of (..., L + 1) curves."""
    x = np.arange(1, curves.shape[-1], dtype=float)
    x = x - x.mean()
    y = curves[..., 1:]
    return ((y - y.mean(-1, keepdims=True)) * x).sum(-1) / (x * x).sum()


def depth_claim(curves: dict[str, Curve], names: list[str], subject: str, seed: int) -> dict:
    """The mean slope over ``names`` (real generators of one group or family), generators resampled too."""
    claim, statistic = "C_T of real generated samples rises with depth", "mean slope of C_T over layers 1..L"
    if not names:
        return not_applicable("depth", claim, subject, statistic, 1, "no trained, fitted or published model")
    slopes = np.stack([_slope(curves[g].replicates) for g in names], axis=1)  # (B, generators)
    picks = np.random.default_rng(seed).integers(0, len(names), size=(len(slopes), len(names)))
    boot = np.take_along_axis(slopes, picks, axis=1).mean(1)
    return row("depth", claim, subject, statistic, 1, names, np.mean([_slope(curves[g].point) for g in names]), boot)


def _contrast(shift: np.ndarray, contrast: str) -> np.ndarray:
    """A (..., L + 1) shift curve reduced to one number per row: early - late, late - early or last - others."""
    early, late = _thirds(shift.shape[-1] - 1)
    last = shift.shape[-1] - 1
    if contrast == "early - late":
        return shift[..., early].mean(-1) - shift[..., late].mean(-1)
    if contrast == "late - early":
        return shift[..., late].mean(-1) - shift[..., early].mean(-1)
    return shift[..., last] - shift[..., 1:last].mean(-1)


def shift_claims(curves: dict[str, Curve], roles: dict[str, Role], baseline: str | None) -> list[dict]:
    """The pathological sets' curves minus one baseline generator's (section 4.2, figure 5)."""
    rows = []
    for shift, (what, sign, contrast) in SHIFTS.items():
        claim_id, statistic = f"shift_{shift}", f"shift vs baseline: {contrast} (mean over layers)"
        members = [g for g in curves if roles[g].shift == shift]
        if not members or baseline not in curves:
            reason = (
                f"no pathological generator of this kind ({shift.replace('_', ' ')})"
                if not members
                else f"baseline generator {baseline!r} is not configured (claims.baseline)"
            )
            rows.append(not_applicable(claim_id, f"{shift.replace('_', ' ')} {what}", "", statistic, sign, reason))
            continue
        base = curves[baseline]
        for g in members:
            shifted = curves[g].point - base.point, curves[g].replicates - base.replicates
            rows.append(
                row(
                    claim_id,
                    f"{g} ({roles[g].kind}) {what}",
                    f"against {baseline}",
                    statistic,
                    sign,
                    [g, baseline],
                    _contrast(shifted[0], contrast),
                    _contrast(shifted[1], contrast),
                )
            )
    return rows


def kde_claim(curves: dict[str, Curve], roles: dict[str, Role]) -> dict:
    claim = "Meehan et al.: C_T rises with the KDE bandwidth"
    statistic = "smallest rise of last-layer C_T between consecutive bandwidths"
    names = sorted((g for g in curves if roles[g].sweep is not None), key=lambda g: roles[g].sweep)
    if len(names) < 2:
        return not_applicable("kde_bandwidth", claim, "", statistic, 1, "fewer than two kde generators")
    point = np.array([curves[g].point[-1] for g in names])
    boot = np.stack([curves[g].replicates[:, -1] for g in names], axis=1)
    return row("kde_bandwidth", claim, "kde sweep", statistic, 1, names, np.diff(point).min(), np.diff(boot, 1).min(1))


def architecture_claim(curves: dict[str, Curve], names: list[str], roles: dict[str, Role], subject: str, seed: int):
    """Mean cosine similarity of curves (layers 1..L) within an architecture minus between architectures, among
    ``names``; generators and replicates resampled together."""
    claim, statistic = "curves of one architecture are more alike than of different ones", "intra - inter cosine"
    arch = np.array([roles[g].architecture for g in names])
    if len(set(arch)) < 2 or len(arch) == len(set(arch)):
        reason = "needs an architecture with two generators and two architectures"
        return not_applicable("architecture", claim, subject, statistic, 1, reason)

    def difference(stack: np.ndarray, picked: np.ndarray) -> float:
        unit = stack[picked, 1:] / np.linalg.norm(stack[picked, 1:], axis=1, keepdims=True)
        sim, a = unit @ unit.T, arch[picked]
        other = picked[:, None] != picked[None, :]
        same = (a[:, None] == a[None, :]) & other
        differ = (a[:, None] != a[None, :]) & other
        return sim[same].mean() - sim[differ].mean() if same.any() and differ.any() else np.nan

    estimate = difference(np.stack([curves[g].point for g in names]), np.arange(len(names)))
    rng = np.random.default_rng(seed)
    boot = np.array(
        [
            difference(np.stack([curves[g].replicates[b] for g in names]), rng.integers(0, len(names), len(names)))
            for b in range(len(curves[names[0]].replicates))
        ]
    )
    return row("architecture", claim, subject, statistic, 1, names, estimate, boot)
