"""The claims table of one C_T setting: every claim of ``memprint.claims`` on every subject it applies to (each
group of real models separately, each family of the published models, each baseline), the fingerprint claim,
and the generators whose answer is known in advance; and their Markdown."""

from __future__ import annotations

import numpy as np
import pandas as pd

from memprint.claims import (
    Curve,
    Role,
    architecture_claim,
    depth_claim,
    kde_claim,
    not_applicable,
    shift_claims,
    verdict,
)

PUBLISHED = "published models"


def subjects(curves: dict[str, Curve], roles: dict[str, Role]) -> dict[str, list[str]]:
    """Each group of real models (in order of appearance), then each family of the published models when they
    hold more than one: subject -> its generators."""
    found: dict[str, list[str]] = {}
    for g in curves:
        if roles[g].group:
            found.setdefault(roles[g].group, []).append(g)
    families = {roles[g].family for g in found.get(PUBLISHED, [])}
    if len(families) > 1:
        for family in sorted(families):
            found[f"{PUBLISHED}: {family}"] = [g for g in found[PUBLISHED] if roles[g].family == family]
    return found


def fingerprint_claim(fingerprint_curves: pd.DataFrame | None, statistics: pd.DataFrame | None, seed: int) -> dict:
    """Accuracy of C_T-layer curves minus the statistics baseline, matched the authors' way (combined) with
    reference sets as large as the targets, paired per target, cluster bootstrap over generators."""
    from memprint.fingerprint import closed_set, cluster_bootstrap, curve_matrix, pair_scores

    claim = "fingerprinting by C_T-layer curves beats the statistics baseline"
    statistic = "accuracy difference (combined matching, smallest reference size)"
    if fingerprint_curves is None or statistics is None or fingerprint_curves.empty:
        return not_applicable("fingerprint", claim, "", statistic, 1, "no fingerprint protocol in this run")
    columns = [c for c in statistics.columns if c.startswith(("mean_c", "std_c")) or c == "fid"]
    keys = ["generator", "architecture", "run", "split", "role", "set_size"]
    size = fingerprint_curves["set_size"][fingerprint_curves["role"] == "reference"].min()
    correct = {}
    for method, sets in (("curves", curve_matrix(fingerprint_curves)), ("stat", statistics.set_index(keys)[columns])):
        matches = closed_set(pair_scores(sets, methods=("combined",)))
        correct[method] = matches[matches["set_size"] == size].set_index(["split", "target"])["correct"]
    paired = pd.concat(correct, axis=1).dropna().reset_index()
    difference = paired["curves"].astype(float) - paired["stat"].astype(float)
    low, high = cluster_bootstrap(difference.to_numpy(), paired["target"].to_numpy(), seed=seed)
    return {
        "id": "fingerprint",
        "claim": claim,
        "subject": "fingerprinted generators",
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
    roles: dict[str, Role],
    baselines: list[str],
    fingerprint_curves: pd.DataFrame | None,
    statistics: pd.DataFrame | None,
    seed: int = 0,
) -> pd.DataFrame:
    """Every claim for one C_T setting: the claims about real generated samples once per subject, the
    pathological shifts once per baseline."""
    groups = subjects(curves, roles) or {"": []}
    per_group = {subject: names for subject, names in groups.items() if ":" not in subject}  # not per family
    architecture = [architecture_claim(curves, names, roles, subject, seed) for subject, names in per_group.items()]
    rows = [
        *[depth_claim(curves, names, subject, seed) for subject, names in groups.items()],
        *[r for baseline in baselines or [None] for r in shift_claims(curves, roles, baseline)],
        kde_claim(curves, roles),
        *([r for r in architecture if r["verdict"] != "not applicable"] or architecture[:1]),
        fingerprint_claim(fingerprint_curves, statistics, seed),
    ]
    return pd.DataFrame(rows)


def claims_markdown(table: pd.DataFrame) -> str:
    lines = [
        "| C_T setting | claim | tested on | statistic | claimed | estimate [95% interval] | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in table.itertuples():
        value = (
            f"{r.estimate:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]" if np.isfinite(r.estimate) else f"n/a ({r.reason})"
        )
        tested = r.subject if not r.generators or r.id == "fingerprint" else f"{r.subject} ({r.generators})"
        cells = [r.setting, r.claim, tested or "–", r.statistic, r.claimed_sign, value, f"**{r.verdict}**"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def known_answer_checks(curves: dict[str, pd.DataFrame], roles: dict[str, Role]) -> pd.DataFrame:
    """The generators whose C_T is known in advance, checked layer by layer: a copier must lie far below -2 (its
    whole interval), a perfect generator (real images in neither T nor P) about 0 (its interval covering 0)."""
    rows = []
    for name, role in roles.items():
        curve = curves[name]
        if role.known_answer == "copies":
            expected, good = "95% interval below -2", curve["high"] < -2
        elif role.known_answer == "held-out":
            expected, good = "95% interval covers 0", (curve["low"] <= 0) & (curve["high"] >= 0)
        else:
            continue
        rows.append(
            {
                "generator": name,
                "expected": expected,
                "layers_as_expected": int(good.sum()),
                "layers": len(curve),
                "layers_not": ", ".join(map(str, curve.loc[~good, "layer"])),
                "ct_min": float(curve["value"].min()),
                "ct_max": float(curve["value"].max()),
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
