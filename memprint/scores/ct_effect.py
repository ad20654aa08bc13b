"""``ct_effect``: C_T's size-free twin. C_T averages per-cell Mann-Whitney z-scores, which grow like the square root
of the sample sizes, so curves made with other set sizes (the paper's 10,000 test images against 1,000 here) cannot be
compared by their values. Per cell, the rank-biserial correlation 2 U / (m n) - 1 (-1: every generated image
nearer its training neighbour than every test image; 0: no difference; +1: the reverse) is the same comparison
without the sizes; it is weighted over the kept cells by P's share exactly as C_T is, with the same bootstrap."""

from __future__ import annotations

import numpy as np

from memprint.scores.base import LayerValue
from memprint.scores.ct import CT, _detail


class CTEffect(CT):
    kind = "ct_effect"
    copies = False
    claims = False
    meaning = (
        "C_T's effect size (rank-biserial, -1..1): < 0 copying, 0 as close to T as held-out images, > 0 underfitting"
    )

    def score(self, state, train, test, generated, device, layer, resampling=None):
        from memprint.ct_interval import bootstrap_ct

        warning = str(state.get("warning", ""))
        reference = self.reference({k: v for k, v in state.items() if k != "warning"}, warning, train)
        result = reference.score(generated, device, layer=layer)
        if reference.undefined:
            replicates = np.full(resampling.replicates, np.nan) if resampling else None
            return LayerValue(float("nan"), replicates, _detail(result, reference, generated))
        cells, dist, _ = reference.generated_neighbours(generated, device, layer=layer)
        ones = (np.ones((1, len(reference.test_cells))), np.ones((1, len(generated))))
        value = float(bootstrap_ct(reference, cells, dist, *ones, effect=True)[0])
        replicates = None
        if resampling:
            p = resampling.counts(len(reference.test_cells), "test")
            q = resampling.counts(len(generated), "generated")
            replicates = bootstrap_ct(reference, cells, dist, p, q, effect=True)
        return LayerValue(value, replicates, _detail(result, reference, generated))
