"""``ct_modified``: dgm-eval's C_T "modified to identify memorization only" (Stein et al. 2023,
``compute_CTscore_mem``): C_T with the training and generated sets swapped. The cells are fit on Q, and within
each, the distances from T's images to their nearest generated image are compared with P's: T closer to Q than
P is (< 0) means the model put its samples on its training images. As in dgm-eval: PCA to 64 dimensions fit on
the set that takes T's place (Q), 3 cells, a cell counts when it holds more than 20 of T's images."""

from __future__ import annotations

import numpy as np

from memprint.scores.base import LayerScore, LayerValue, Sizes, config_error
from memprint.scores.ct import _detail, check_cells


class CTModified(LayerScore):
    kind = "ct_modified"
    meaning = "C_T with T and Q swapped (dgm-eval): < 0 T lies closer to the samples than held-out images do"

    def check(self, key: str, sizes: Sizes) -> None:
        """The cells are fit on each generated set and T takes Q's place."""
        known = [n for n in sizes.samples.values() if n is not None]
        check_cells(key, self.spec, min(known, default=None), sizes.test, "a generated set")
        needed = self.spec["min_generated_per_cell"] if self.spec["tau"] is None else 0
        if sizes.train is not None and sizes.train <= needed:
            raise config_error(f"{key}.min_generated_per_cell", f"T holds {sizes.train} images, not more than {needed}")

    def score(self, state, train, test, generated, device, layer, resampling=None):
        from memprint.ct import CTSettings, LayerReference
        from memprint.ct_interval import bootstrap_ct

        settings = CTSettings(**{**self.settings(), "pca_dim": _pca_dim(self.spec["pca_dim"], generated)})
        reference = LayerReference.fit(generated, test, settings, device, layer=layer)  # cells on Q
        if reference.undefined:
            return LayerValue(np.nan, np.full(resampling.replicates, np.nan) if resampling else None)
        cells, dist, _ = reference.generated_neighbours(train, device, layer=layer)  # T in Q's place
        result = reference.score_distances(cells, dist, layer=layer)
        replicates = None
        if resampling:  # P's stream as for every score; T resampled on the generator's stream (it is the one scored)
            replicates = bootstrap_ct(
                reference, cells, dist, resampling.counts(len(test), "test"), resampling.counts(len(train), "generated")
            )
        return LayerValue(result.ct, replicates, _detail(result, reference, train))


def _pca_dim(pca_dim: int | None, generated: np.ndarray) -> int | None:
    """dgm-eval projects only when the embedding is wider than the PCA width."""
    return pca_dim if pca_dim is not None and generated.shape[1] > pca_dim else None
