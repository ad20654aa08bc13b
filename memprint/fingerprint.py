"""Fingerprinting generators by per-set features such as C_T-layer curves (Bai et al., 2024, section 5).

The protocol of the paper's Table 1, repeated over seeded random splits: from each generator's samples a target
set is held out and reference sets of one or more sizes (nested: the small one is the start of the full one) are
drawn from the rest. Each set becomes a feature vector (its C_T-layer curve over layers 1..L, or the statistics
baseline); every target is scored against every reference by L2, cosine, or both combined as the authors'
published code does (0.5 cos + 0.5 / (1 + L2)). From those scores come closed-set accuracy (is the best reference
of the target's architecture?), leave-one-model-out accuracy (the target's own training run removed from the
database) and open-set rejection (is the best score higher when the target's architecture is in the database than
when it is not?). Intervals are cluster bootstraps over generators: a generator's targets are not independent.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from memprint import MemprintError

METHODS = ("l2", "cosine", "combined")
SET_KEYS = ["generator", "architecture", "run", "split", "role", "set_size"]


def protocol_splits(
    n: int, target_size: int, reference_sizes: list[int], splits: int, seed: int
) -> list[tuple[np.ndarray, dict[int, np.ndarray]]]:
    """Per split: (target indices, {reference size: reference indices}); the same for every generator of size n.
    The config's ``fingerprint`` protocol dict holds exactly these keyword arguments."""
    if target_size + max(reference_sizes) > n:
        raise MemprintError(
            f"fingerprint protocol needs target_size + largest reference size = "
            f"{target_size + max(reference_sizes)} samples per generator, but a generator has {n}; "
            "lower fingerprint.target_size / reference_sizes or draw more samples"
        )
    drawn = []
    for split in range(splits):
        order = np.random.default_rng([seed, split]).permutation(n)
        rest = order[target_size:]
        drawn.append((np.sort(order[:target_size]), {size: np.sort(rest[:size]) for size in reference_sizes}))
    return drawn


def protocol_sets(n: int, protocol: dict):
    """(split, role, indices) of every set the protocol draws from ``n`` samples."""
    for split, (target, references) in enumerate(protocol_splits(n, **protocol)):
        yield split, "target", target
        for idx in references.values():
            yield split, "reference", idx


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (b @ a) / (np.linalg.norm(a) * np.linalg.norm(b, axis=1) + 1e-12)


def match_scores(query: np.ndarray, database: np.ndarray, method: str) -> np.ndarray:
    """Higher is closer: -L2, cosine, or 0.5 cos + 0.5 / (1 + L2) of ``query`` to each database row."""
    l2 = np.linalg.norm(database - query, axis=1)
    if method == "l2":
        return -l2
    if method == "cosine":
        return _cosine(query, database)
    if method == "combined":
        return 0.5 * _cosine(query, database) + 0.5 / (1.0 + l2)
    raise MemprintError(f"matching method {method!r} is unknown; use one of {METHODS}")


def curve_matrix(curves: pd.DataFrame, first_layer: int = 1) -> pd.DataFrame:
    """Sets x layers (>= ``first_layer``) of C_T; layers undefined (NaN) for any set are dropped with a warning."""
    wide = curves[curves["layer"] >= first_layer].set_index([*SET_KEYS, "layer"])["value"].unstack("layer")
    undefined = wide.columns[wide.isna().any()]
    if len(undefined):
        warnings.warn(f"layers {list(undefined)} have undefined C_T and are left out of matching", stacklevel=2)
        wide = wide.drop(columns=undefined)
    if wide.shape[1] == 0:
        raise MemprintError("no layer with a defined C_T is left to match on")
    return wide


def pair_scores(sets: pd.DataFrame, methods=METHODS) -> pd.DataFrame:
    """Every target's score against every reference of the same split and size (``sets``: SET_KEYS x features)."""
    rows = []
    for (split, size), refs in sets.xs("reference", level="role").groupby(level=["split", "set_size"]):
        targets = sets.xs("target", level="role").xs(split, level="split", drop_level=False)
        for target_key, query in targets.iterrows():
            target = dict(zip(targets.index.names, target_key))
            for method in methods:
                scores = match_scores(query.to_numpy(float), refs.to_numpy(float), method)
                for ref_key, score in zip(refs.index, scores):
                    ref = dict(zip(refs.index.names, ref_key))
                    rows.append(
                        {
                            "split": split,
                            "set_size": size,
                            "method": method,
                            "target": target["generator"],
                            "architecture": target["architecture"],
                            "run": target["run"],
                            "reference": ref["generator"],
                            "reference_architecture": ref["architecture"],
                            "reference_run": ref["run"],
                            "score": float(score),
                        }
                    )
    return pd.DataFrame(rows)


_TARGET = ["method", "set_size", "split", "target", "architecture", "run"]


def _best(scores: pd.DataFrame) -> pd.DataFrame:
    best = scores.loc[scores.groupby(_TARGET, sort=False)["score"].idxmax()]
    best = best.rename(columns={"reference": "match", "reference_architecture": "match_architecture"})
    return best.drop(columns=["reference_run"]).assign(correct=lambda d: d["match_architecture"] == d["architecture"])


def closed_set(scores: pd.DataFrame) -> pd.DataFrame:
    """Each target's best reference; correct when it has the target's architecture."""
    return _best(scores).reset_index(drop=True)


def leave_one_model_out(scores: pd.DataFrame) -> pd.DataFrame:
    """Best reference once the target's own training run is out of the database; only targets whose architecture
    has another run left (otherwise the right answer is not in the database)."""
    kept = scores[scores["reference_run"] != scores["run"]]
    eligible = kept.loc[kept["reference_architecture"] == kept["architecture"], _TARGET].drop_duplicates()
    return _best(kept.merge(eligible, on=_TARGET)).reset_index(drop=True)


def open_set(scores: pd.DataFrame) -> pd.DataFrame:
    """Best score of each target with its architecture in the database (known) and with it removed (unknown):
    a threshold on this score answers "unknown generator"."""
    known = scores.groupby(_TARGET)["score"].max().rename("score").reset_index().assign(known=True)
    foreign = scores[scores["reference_architecture"] != scores["architecture"]]
    unknown = foreign.groupby(_TARGET)["score"].max().rename("score").reset_index().assign(known=False)
    return pd.concat([known, unknown], ignore_index=True)


def roc(open_scores: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """ROC of accepting a target as known when its best score is above a threshold, and its area."""
    from sklearn.metrics import roc_auc_score, roc_curve

    labels, scores = open_scores["known"].to_numpy(), open_scores["score"].to_numpy()
    if labels.all() or not labels.any():
        raise MemprintError(
            "open-set ROC needs targets both with and without their architecture in the database; "
            "configure at least two architectures"
        )
    fpr, tpr, thresholds = roc_curve(labels, scores)
    return pd.DataFrame({"false_accept": fpr, "true_accept": tpr, "threshold": thresholds}), float(
        roc_auc_score(labels, scores)
    )


def cluster_bootstrap(
    values: np.ndarray, clusters: np.ndarray, statistic=np.mean, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of ``statistic(values)`` resampling whole clusters (here: generators) with replacement."""
    values, clusters = np.asarray(values, float), np.asarray(clusters)
    names, index = np.unique(clusters, return_inverse=True)
    members = [np.flatnonzero(index == k) for k in range(len(names))]
    rng = np.random.default_rng(seed)
    stats = [
        statistic(values[np.concatenate([members[k] for k in rng.integers(0, len(names), len(names))])])
        for _ in range(n_boot)
    ]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(stats, [tail, 100 - tail])
    return float(low), float(high)


def accuracy_rows(matches: pd.DataFrame, group: list[str], seed: int = 0) -> pd.DataFrame:
    """Accuracy per ``group``: over all splits with its 95% interval, and on split 0 alone (the paper's protocol)."""
    rows = []
    for key, block in matches.groupby(group, sort=False):
        low, high = cluster_bootstrap(block["correct"].to_numpy(), block["target"].to_numpy(), seed=seed)
        first = block[block["split"] == block["split"].min()]
        rows.append(
            {
                **dict(zip(group, key if isinstance(key, tuple) else (key,))),
                "targets": len(block),
                "accuracy": block["correct"].mean(),
                "ci_low": low,
                "ci_high": high,
                "accuracy_split0": first["correct"].mean(),
                "targets_split0": len(first),
            }
        )
    return pd.DataFrame(rows)


def similarity_matrix(curves: pd.DataFrame, first_layer: int = 1) -> pd.DataFrame:
    """Cosine similarity between generators' curves (columns: generator, layer, ct), layers >= ``first_layer``."""
    wide = curves[curves["layer"] >= first_layer].pivot_table(index="generator", columns="layer", values="value")
    wide = wide.dropna(axis=1)
    x = wide.to_numpy()
    unit = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)
    return pd.DataFrame(unit @ unit.T, index=wide.index, columns=wide.index)


def intra_minus_inter(
    similarity: pd.DataFrame, architectures: dict[str, str], n_boot: int = 2000, seed: int = 0
) -> dict:
    """Mean similarity of curve pairs within an architecture minus between architectures (diagonal left out),
    with a 95% interval from resampling generators."""
    names = list(similarity.index)
    arch = np.array([architectures[n] for n in names])
    sim = similarity.to_numpy()

    def difference(picked: np.ndarray) -> float:
        a, b = np.meshgrid(picked, picked, indexing="ij")
        off = a != b
        same = (arch[a] == arch[b]) & off
        other = (arch[a] != arch[b]) & off
        return (
            float(sim[a[same], b[same]].mean() - sim[a[other], b[other]].mean())
            if same.any() and other.any()
            else np.nan
        )

    observed = difference(np.arange(len(names)))
    if np.isnan(observed):
        raise MemprintError(
            "intra- minus inter-architecture similarity needs an architecture with two generators "
            "and at least two architectures"
        )
    rng = np.random.default_rng(seed)
    boots = np.array([difference(rng.integers(0, len(names), len(names))) for _ in range(n_boot)])
    low, high = np.nanpercentile(boots, [2.5, 97.5])
    return {"intra_minus_inter": observed, "ci_low": float(low), "ci_high": float(high), "generators": len(names)}
