"""The paper's claims as statistics with 95% intervals and computed verdicts.

Each claim is a number whose sign the paper predicts. Its interval comes from the bootstrap replicate curves of
``memprint.ct_interval`` (replicate b of every generator shares P's resample, each Q is resampled on its own
stream); claims over several generators also resample the generators. Fingerprint accuracy differences use the
cluster bootstrap over generators of ``memprint.fingerprint``. The verdict is read off the interval: confirmed
when it lies on the claimed side of 0, contradicted when it lies on the other side, inconclusive otherwise, and
not applicable (with the reason) when the configuration lacks the generators a claim needs.

Layers: 1..L are the blocks (layer 0, the patch embedding, is left out as in the fingerprints); "early" is the
first third of the blocks, "late" the last third.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from memprint.ct_interval import percentile_interval

LOW_LEVEL_KINDS = ("rotate", "down_up")
BACKGROUND_KINDS = ("noise_background", "landscape_background")


@dataclass
class Curve:
    """One generator's C_T over layers 0..L and its bootstrap replicates, (B, L + 1)."""

    point: np.ndarray
    replicates: np.ndarray


def verdict(low: float, high: float, sign: int) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
    if (low > 0 and sign > 0) or (high < 0 and sign < 0):
        return "confirmed"
    if (high < 0 and sign > 0) or (low > 0 and sign < 0):
        return "contradicted"
    return "inconclusive"


def _row(claim: str, statistic: str, sign: int, generators: list[str], estimate: float, replicates: np.ndarray):
    low, high = (
        (float(v) for v in percentile_interval(replicates)) if np.isfinite(replicates).any() else (np.nan, np.nan)
    )
    return {
        "claim": claim,
        "statistic": statistic,
        "claimed_sign": ">0" if sign > 0 else "<0",
        "generators": ", ".join(generators),
        "estimate": float(estimate),
        "ci_low": low,
        "ci_high": high,
        "verdict": verdict(low, high, sign),
        "reason": "",
    }


def _not_applicable(claim: str, statistic: str, sign: int, reason: str) -> dict:
    return {
        "claim": claim,
        "statistic": statistic,
        "claimed_sign": ">0" if sign > 0 else "<0",
        "generators": "",
        "estimate": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
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


def depth_claim(curves: dict[str, Curve], real: set[str], seed: int) -> dict:
    """``real``: the generators that model the data (trained or fitted models, not copies or alterations)."""
    claim, statistic = "C_T of real generated samples rises with depth", "mean slope of C_T over layers 1..L"
    names = [g for g in curves if g in real]
    if not names:
        return _not_applicable(claim, statistic, 1, "no trained or fitted model among the generators")
    slopes = np.stack([_slope(curves[g].replicates) for g in names], axis=1)  # (B, generators)
    picks = np.random.default_rng(seed).integers(0, len(names), size=(len(slopes), len(names)))
    boot = np.take_along_axis(slopes, picks, axis=1).mean(1)
    return _row(claim, statistic, 1, names, np.mean([_slope(curves[g].point) for g in names]), boot)


def shift_claims(curves: dict[str, Curve], kinds: dict[str, str], baseline: str | None) -> list[dict]:
    """The pathological sets' curves minus the baseline generator's (section 4.2, figure 5)."""
    specs = [
        (LOW_LEVEL_KINDS, "shifts the early layers more than the late ones", ">", "early - late"),
        (BACKGROUND_KINDS, "drops the relative C_T at the last layer", "<", "last - other layers"),
        (("patch_shuffle",), "leaves the early layers near the baseline, deeper layers rise", ">", "late - early"),
    ]
    rows = []
    for kind_group, what, side, contrast in specs:
        sign = 1 if side == ">" else -1
        statistic = f"shift vs baseline: {contrast} (mean over layers)"
        members = [g for g in curves if kinds[g] in kind_group]
        if not members or baseline not in curves:
            reason = (
                f"no generator of kind {' or '.join(kind_group)}"
                if not members
                else f"baseline generator {baseline!r} is not configured (claims.baseline)"
            )
            rows.append(_not_applicable(f"{'/'.join(kind_group)} {what}", statistic, sign, reason))
            continue
        base = curves[baseline]
        for g in members:
            rows.append(
                _row(
                    f"{g} ({kinds[g]}) {what}",
                    f"{statistic}, baseline {baseline}",
                    sign,
                    [g, baseline],
                    _contrast(curves[g].point - base.point, contrast),
                    _contrast(curves[g].replicates - base.replicates, contrast),
                )
            )
    return rows


def _contrast(shift: np.ndarray, contrast: str) -> np.ndarray:
    """A (..., L + 1) shift curve reduced to one number per row: early - late, late - early or last - others."""
    early, late = _thirds(shift.shape[-1] - 1)
    last = shift.shape[-1] - 1
    if contrast == "early - late":
        return shift[..., early].mean(-1) - shift[..., late].mean(-1)
    if contrast == "late - early":
        return shift[..., late].mean(-1) - shift[..., early].mean(-1)
    return shift[..., last] - shift[..., 1:last].mean(-1)


def kde_claim(curves: dict[str, Curve], kinds: dict[str, str], bandwidths: dict[str, float]) -> dict:
    claim = "Meehan et al.: C_T rises with the KDE bandwidth"
    statistic = "smallest rise of last-layer C_T between consecutive bandwidths"
    names = sorted((g for g in curves if kinds[g] == "kde"), key=lambda g: bandwidths[g])
    if len(names) < 2:
        return _not_applicable(claim, statistic, 1, "fewer than two kde generators")
    point = np.array([curves[g].point[-1] for g in names])
    boot = np.stack([curves[g].replicates[:, -1] for g in names], axis=1)
    return _row(claim, statistic, 1, names, np.diff(point).min(), np.diff(boot, axis=1).min(1))


def architecture_claim(curves: dict[str, Curve], real: set[str], architectures: dict[str, str], seed: int) -> dict:
    """Mean cosine similarity of curves (layers 1..L) within an architecture minus between architectures, among
    trained generators when there are such (else all); generators and replicates resampled together."""
    claim, statistic = "curves of one architecture are more alike than of different ones", "intra - inter cosine"
    names = [g for g in curves if g in real] or list(curves)
    arch = np.array([architectures[g] for g in names])
    if len(set(arch)) < 2 or len(arch) == len(set(arch)):
        return _not_applicable(claim, statistic, 1, "needs an architecture with two generators and two architectures")

    def difference(stack: np.ndarray, picked: np.ndarray) -> float:
        unit = stack[picked, 1:] / np.linalg.norm(stack[picked, 1:], axis=1, keepdims=True)
        sim, a = unit @ unit.T, arch[picked]
        other = picked[:, None] != picked[None, :]
        same = (a[:, None] == a[None, :]) & other
        differ = (a[:, None] != a[None, :]) & other
        return sim[same].mean() - sim[differ].mean() if same.any() and differ.any() else np.nan

    everyone = np.arange(len(names))
    estimate = difference(np.stack([curves[g].point for g in names]), everyone)
    rng = np.random.default_rng(seed)
    replicates = len(curves[names[0]].replicates)
    boot = np.array(
        [
            difference(np.stack([curves[g].replicates[b] for g in names]), rng.integers(0, len(names), len(names)))
            for b in range(replicates)
        ]
    )
    return _row(claim, statistic, 1, names, estimate, boot)


def fingerprint_claim(fingerprint_curves: pd.DataFrame | None, statistics: pd.DataFrame | None, seed: int) -> dict:
    """Accuracy of C_T-layer curves minus the statistics baseline, matched the authors' way (combined) with
    reference sets as large as the targets, paired per target, cluster bootstrap over generators."""
    from memprint.fingerprint import (
        closed_set,
        cluster_bootstrap,
        curve_matrix,
        pair_scores,
    )

    claim = "fingerprinting by C_T-layer curves beats the statistics baseline"
    statistic = "accuracy difference (combined matching, smallest reference size)"
    if fingerprint_curves is None or statistics is None:
        return _not_applicable(claim, statistic, 1, "no fingerprint protocol in this run")
    columns = [c for c in statistics.columns if c.startswith(("mean_c", "std_c")) or c == "fid"]
    keys = ["generator", "architecture", "run", "split", "role", "set_size"]
    size = fingerprint_curves["set_size"][fingerprint_curves["role"] == "reference"].min()
    correct = {}
    for method, sets in (("ct", curve_matrix(fingerprint_curves)), ("stat", statistics.set_index(keys)[columns])):
        matches = closed_set(pair_scores(sets, methods=("combined",)))
        correct[method] = matches[matches["set_size"] == size].set_index(["split", "target"])["correct"]
    paired = pd.concat(correct, axis=1).dropna().reset_index()
    difference = paired["ct"].astype(float) - paired["stat"].astype(float)
    low, high = cluster_bootstrap(difference.to_numpy(), paired["target"].to_numpy(), seed=seed)
    return {
        "claim": claim,
        "statistic": statistic,
        "claimed_sign": ">0",
        "generators": f"{paired['target'].nunique()}",
        "estimate": float(difference.mean()),
        "ci_low": low,
        "ci_high": high,
        "verdict": verdict(low, high, 1),
        "reason": f"{len(paired)} targets, {size} reference images",
    }


def claims_table(
    curves: dict[str, Curve],
    specs: dict[str, dict],
    architectures: dict[str, str],
    baseline: str | None,
    fingerprint_curves: pd.DataFrame | None,
    statistics: pd.DataFrame | None,
    seed: int = 0,
) -> pd.DataFrame:
    """Every claim for one C_T setting."""
    from memprint.generators import generator

    kinds = {g: spec["kind"] for g, spec in specs.items()}
    real = {g for g, spec in specs.items() if generator(g, spec).models_data}
    bandwidths = {g: spec.get("bandwidth") for g, spec in specs.items()}
    rows = [
        depth_claim(curves, real, seed),
        *shift_claims(curves, kinds, baseline),
        kde_claim(curves, kinds, bandwidths),
        architecture_claim(curves, real, architectures, seed),
        fingerprint_claim(fingerprint_curves, statistics, seed),
    ]
    return pd.DataFrame(rows)


def claims_markdown(table: pd.DataFrame) -> str:
    lines = [
        "| C_T setting | claim | statistic | claimed | estimate [95% interval] | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in table.itertuples():
        value = (
            f"{r.estimate:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]" if np.isfinite(r.estimate) else f"n/a ({r.reason})"
        )
        lines.append(f"| {r.setting} | {r.claim} | {r.statistic} | {r.claimed_sign} | {value} | **{r.verdict}** |")
    return "\n".join(lines) + "\n"


def known_answer_checks(curves: dict[str, pd.DataFrame], specs: dict[str, dict]) -> pd.DataFrame:
    """The generators whose C_T is known in advance, checked layer by layer: a copier must lie far below -2 (its
    whole interval), a perfect generator (real images in neither T nor P) about 0 (its interval covering 0)."""
    rows = []
    for name, spec in specs.items():
        curve = curves[name]
        if spec["kind"] == "copier":
            expected, good = "95% interval below -2", curve["ct_high"] < -2
        elif spec["kind"] == "unaltered" and spec.get("source") == "heldout":
            expected, good = "95% interval covers 0", (curve["ct_low"] <= 0) & (curve["ct_high"] >= 0)
        else:
            continue
        rows.append(
            {
                "generator": name,
                "expected": expected,
                "layers_as_expected": int(good.sum()),
                "layers": len(curve),
                "layers_not": ", ".join(map(str, curve.loc[~good, "layer"])),
                "ct_min": float(curve["ct"].min()),
                "ct_max": float(curve["ct"].max()),
            }
        )
    return pd.DataFrame(rows)


def known_answer_markdown(checks: pd.DataFrame) -> str:
    lines = [
        "| C_T setting | generator | expected at every layer | layers as expected | layers not | C_T range |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.setting} | {r.generator} | {r.expected} | {r.layers_as_expected} of {r.layers} | "
        f"{r.layers_not or '–'} | {r.ct_min:.2f} .. {r.ct_max:.2f} |"
        for r in checks.itertuples()
    ]
    return "\n".join(lines) + "\n"
