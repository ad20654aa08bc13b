"""The C_T data-copying score of Meehan, Chaudhuri and Dasgupta (2020), as their published code computes it.

Functions ``Zu``, ``Zu_cells`` and ``C_T`` of their ``data_copying_tests.py`` (copied verbatim by dgm-eval):

* cells: KMeans with ``k`` cells fit on the training embeddings T only; T, P (test) and Q (generated) points
  are placed in the cell of their nearest centre;
* distance: each P and Q point's distance to its nearest training point *inside the same cell* (exact search);
* per cell: U = #{(q, p): d(q) > d(p)} + 0.5 per tie, Z_U = (U - (m n / 2 - 0.5)) / sqrt(m n (m + n + 1) / 12),
  m = |P in cell|, n = |Q in cell|, no tie correction. Negative: Q is closer to T than P is (data copying);
* a cell is kept only if its share of Q is strictly greater than tau (default tau = 20 / |Q|);
* C_T = sum over kept cells of P's share x Z_U, divided by the sum of those shares.

Options the Bai et al. (2024) code uses, off by default: PCA to 64 dimensions fit on T per layer, k = 10, and
the distance 1 - |cosine| instead of Euclidean.

The fit on T and P (the "reference", ``LayerReference``) does not depend on Q: it is computed once per layer
and reused for every generator. KMeans and PCA are seeded: a score is deterministic on a given machine."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import torch

from memprint import MemprintError
from memprint.cells import assign_cells, check_matrix, mann_whitney_z, seeded_rows
from memprint.schema import section_defaults
from memprint.search import nearest_distances

DISTANCES = ("euclidean", "abs_cosine")

_DEFAULTS = section_defaults("ct")  # Meehan et al.'s settings, from the schema


@dataclass(frozen=True)
class CTSettings:
    """What changes a C_T score. ``tau`` (a share of Q) overrides ``min_generated_per_cell`` (a count)."""

    cells: int = _DEFAULTS["cells"]
    min_generated_per_cell: int = _DEFAULTS["min_generated_per_cell"]
    tau: float | None = _DEFAULTS["tau"]
    pca_dim: int | None = _DEFAULTS["pca_dim"]
    distance: str = _DEFAULTS["distance"]
    seed: int = _DEFAULTS["seed"]
    kmeans_restarts: int = _DEFAULTS["kmeans_restarts"]
    kmeans_sample: int | None = _DEFAULTS["kmeans_sample"]
    min_test_per_cell: int = _DEFAULTS["min_test_per_cell"]

    def __post_init__(self):
        if self.distance not in DISTANCES:
            raise MemprintError(f"C_T distance {self.distance!r} is unknown; use one of {DISTANCES}")
        if self.cells < 1:
            raise MemprintError(f"C_T cells must be >= 1, got {self.cells}")
        if self.tau is not None and not 0 <= self.tau < 1:
            raise MemprintError(f"C_T tau must be in [0, 1) (a share of the generated samples), got {self.tau}")
        if self.pca_dim is not None and self.pca_dim < 1:
            raise MemprintError(f"C_T pca_dim must be >= 1 (or none), got {self.pca_dim}")

    def tau_for(self, n_generated: int) -> float:
        return self.tau if self.tau is not None else self.min_generated_per_cell / n_generated


@dataclass
class CTResult:
    """One layer's score with the per-cell detail behind it; ``ct`` is NaN when the score is undefined."""

    ct: float
    tau: float
    cells_used: int
    z_per_cell: list[float]
    train_per_cell: list[int]
    test_per_cell: list[int]
    generated_per_cell: list[int]
    warning: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


class LayerReference:
    """The part of C_T that depends only on T and P for one layer: projection, cells, P's distances."""

    def __init__(
        self,
        settings: CTSettings,
        centers: np.ndarray,
        train: np.ndarray,
        train_cells: np.ndarray,
        test_cells: np.ndarray,
        test_dist: np.ndarray,
        pca_mean: np.ndarray | None,
        pca_components: np.ndarray | None,
        warning: str = "",
    ):
        self.settings = settings
        self.centers = centers
        self.train = train
        self.train_cells = train_cells
        self.test_cells = test_cells
        self.test_dist = test_dist
        self.pca_mean = pca_mean
        self.pca_components = pca_components
        self.warning = warning

    @property
    def undefined(self) -> bool:
        return bool(self.warning)

    def project(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if self.pca_components is None:
            return x
        return (x - self.pca_mean) @ self.pca_components.T

    @classmethod
    def fit(
        cls,
        train: np.ndarray,
        test: np.ndarray,
        settings: CTSettings = CTSettings(),
        device: torch.device | None = None,
        layer: str = "",
    ) -> LayerReference:
        train = check_matrix(train, "training embeddings", layer)
        test = check_matrix(test, "test embeddings", layer, width=train.shape[1])
        where = f" (layer {layer})" if layer else ""
        needed = settings.min_test_per_cell * settings.cells
        if len(train) < needed:
            raise MemprintError(
                f"{len(train)} training points{where} for {settings.cells} cells: each cell's distances are measured "
                f"to its training points, so T needs at least {settings.min_test_per_cell} per cell ({needed}); "
                "lower ct.cells or use more training images"
            )
        if len(test) < needed:
            raise MemprintError(
                f"{len(test)} test points (P){where} for {settings.cells} cells: C_T compares distances within each "
                f"cell, so P needs at least {settings.min_test_per_cell} per cell ({needed}); give more test images "
                "or use fewer cells"
            )
        if np.ptp(train, axis=0).max() == 0.0:
            msg = f"embeddings{where} are identical for every training image: C_T is undefined there"
            warnings.warn(msg, stacklevel=2)
            empty = np.zeros(0, np.int64)
            fields = (np.zeros((0, train.shape[1]), np.float32), train, empty, empty, np.zeros(0, np.float32))
            return cls(settings, *fields, None, None, warning=msg)
        pca_mean = pca_components = None
        if (settings.pca_dim or 0) > train.shape[1]:
            raise MemprintError(f"pca_dim {settings.pca_dim} > embedding width {train.shape[1]}{where}; lower it")
        if settings.pca_dim is not None and settings.pca_dim < train.shape[1]:
            from sklearn.decomposition import PCA

            pca = PCA(n_components=min(settings.pca_dim, len(train)), random_state=settings.seed).fit(train)
            pca_mean = pca.mean_.astype(np.float32)
            pca_components = pca.components_.astype(np.float32)
        ref = cls(settings, None, train, None, None, None, pca_mean, pca_components)
        train_p = ref.project(train)
        from sklearn.cluster import KMeans

        kmeans = KMeans(n_clusters=settings.cells, n_init=settings.kmeans_restarts, random_state=settings.seed)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Number of distinct clusters")
            kmeans.fit(seeded_rows(train_p, settings.kmeans_sample, settings.seed))
        ref.centers = kmeans.cluster_centers_.astype(np.float32)
        ref.train = train_p
        ref.train_cells = assign_cells(train_p, ref.centers)
        ref.test_cells, ref.test_dist, _ = ref._cells_and_distances(ref.project(test), "test", device, where)
        return ref

    def _cells_and_distances(self, points: np.ndarray, what: str, device, where: str):
        """Each point's cell, distance to its nearest training point in that cell, and that point's row in T."""
        cells = assign_cells(points, self.centers)
        dist = np.empty(len(points), np.float32)
        rows = np.empty(len(points), np.int64)
        train_counts = np.bincount(self.train_cells, minlength=len(self.centers))
        for cell in np.unique(cells):
            if train_counts[cell] == 0:
                raise MemprintError(
                    f"cell {cell}{where} holds {int((cells == cell).sum())} {what} point(s) but no training "
                    f"point, so their distance to the training set is undefined; lower ct.cells "
                    f"(now {len(self.centers)}) or use more training images"
                )
            inside, members = cells == cell, np.flatnonzero(self.train_cells == cell)
            dist[inside], nearest = nearest_distances(
                points[inside], self.train[members], self.settings.distance, device, return_index=True
            )
            rows[inside] = members[nearest]
        return cells, dist, rows

    def generated_neighbours(
        self, generated: np.ndarray, device: torch.device | None = None, layer: str = ""
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Q's cells, nearest-training distances and nearest training rows: the only search over T a generated
        set needs (C_T, its intervals and the copy finder all use it)."""
        where = f" (layer {layer})" if layer else ""
        generated = check_matrix(
            generated,
            "generated embeddings",
            layer,
            width=self.pca_mean.shape[0] if self.pca_mean is not None else self.train.shape[1],
        )
        return self._cells_and_distances(self.project(generated), "generated", device, where)

    def score(self, generated: np.ndarray, device: torch.device | None = None, layer: str = "") -> CTResult:
        """C_T of generated samples Q against this reference's T and P."""
        if self.undefined:
            tau = self.settings.tau_for(max(len(generated), 1))
            return CTResult(float("nan"), tau, 0, [], [], [], [], warning=self.warning)
        cells, dist, _ = self.generated_neighbours(generated, device, layer)
        return self.score_distances(cells, dist, layer=layer)

    def score_distances(self, gen_cells: np.ndarray, gen_dist: np.ndarray, layer: str = "") -> CTResult:
        """C_T from Q's cells and distances (``generated_neighbours``)."""
        k, where = len(self.centers), f" (layer {layer})" if layer else ""
        tau = self.settings.tau_for(max(len(gen_cells), 1))
        n_test, n_gen = len(self.test_cells), len(gen_cells)
        test_counts, gen_counts = np.bincount(self.test_cells, minlength=k), np.bincount(gen_cells, minlength=k)
        kept = gen_counts / n_gen > tau
        z = np.full(k, np.nan)
        for cell in np.flatnonzero(kept & (test_counts > 0)):
            z[cell] = mann_whitney_z(self.test_dist[self.test_cells == cell], gen_dist[gen_cells == cell])
        weights = np.where(kept, test_counts / n_test, 0.0)
        if not kept.any():
            knob = "lower tau (ct.tau)" if self.settings.tau is not None else "lower ct.min_generated_per_cell"
            raise MemprintError(
                f"no cell{where} holds more than tau x |Q| = {tau * n_gen:.1f} of the {n_gen} generated samples; "
                f"generate more samples, use fewer cells (ct.cells) or {knob}"
            )
        if weights.sum() == 0.0:
            raise MemprintError(
                f"the cells{where} that hold generated samples hold no test sample; use fewer cells or more test images"
            )
        used = kept & (test_counts > 0)
        ct = float(np.dot(weights[used], z[used]) / weights[used].sum())
        dropped = k - int(used.sum())
        return CTResult(
            ct,
            float(tau),
            int(used.sum()),
            [None if np.isnan(v) else float(v) for v in z],
            np.bincount(self.train_cells, minlength=k).tolist(),
            test_counts.tolist(),
            gen_counts.tolist(),
            warning=(
                f"{dropped} of {k} cells left out{where} (at most tau x |Q| = {tau * n_gen:.1f} generated samples or "
                f"no test sample there): C_T covers {weights[used].sum():.0%} of P"
                if dropped
                else ""
            ),
        )

    def state(self) -> dict:
        """What to persist: everything but the training points, which are re-read from their embedding file."""
        arrays = {
            "centers": self.centers,
            "train_cells": self.train_cells,
            "test_cells": self.test_cells,
            "test_dist": self.test_dist,
        }
        if self.pca_components is not None:
            arrays.update(pca_mean=self.pca_mean, pca_components=self.pca_components)
        return arrays

    @classmethod
    def from_state(cls, state: dict, train: np.ndarray, settings: CTSettings, warning: str = "") -> LayerReference:
        ref = cls(
            settings,
            state["centers"],
            None,
            state["train_cells"],
            state["test_cells"],
            state["test_dist"],
            state.get("pca_mean"),
            state.get("pca_components"),
            warning,
        )
        ref.train = ref.project(train)
        if not warning and len(ref.train) != len(ref.train_cells):
            raise MemprintError(
                "training embeddings do not match the C_T reference (different row counts); rerun the reference step"
            )
        return ref


def ct_score(
    train: np.ndarray,
    test: np.ndarray,
    generated: np.ndarray,
    settings: CTSettings = CTSettings(),
    device: torch.device | None = None,
) -> CTResult:
    """C_T of one layer: (N_T, D), (N_P, D) and (N_Q, D) embeddings."""
    return LayerReference.fit(train, test, settings, device).score(generated, device)
