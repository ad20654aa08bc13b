"""``ct``: the C_T data-copying score of Meehan, Chaudhuri and Dasgupta (2020), ``memprint.ct``, with the bootstrap
interval of ``memprint.ct_interval``; negative where Q is closer to T than P is (copying)."""

from __future__ import annotations

import numpy as np

from memprint.scores.base import LayerScore, LayerValue, Sizes, config_error


class CT(LayerScore):
    kind = "ct"
    copies = True
    claims = True
    meaning = "C_T: < 0 copying, about 0 as close to T as held-out images, > 0 underfitting"

    def check(self, key: str, sizes: Sizes) -> None:
        """Cells against T and P, tau against the cells, and every set against the per-cell threshold: sizes that
        otherwise fail deep inside a job."""
        check_cells(key, self.spec, sizes.train, sizes.test, "a training set")
        needed = self.spec["min_generated_per_cell"] if self.spec["tau"] is None else 0
        for name, samples in sizes.samples.items():
            if samples is not None and samples <= needed:  # None: existing samples without a count
                raise config_error(
                    f"generators.{name}.samples",
                    f"{samples} samples cannot put more than {needed} in any C_T cell (min_generated_per_cell); draw "
                    f"more than {needed}",
                )
        if sizes.fingerprint_set is not None and sizes.fingerprint_set <= needed:
            raise config_error(
                "fingerprint",
                f"sets of {sizes.fingerprint_set} images cannot put more than {needed} in any C_T cell; use target "
                f"and reference sizes above {needed}",
            )

    def ct_settings(self):
        from memprint.ct import CTSettings

        return CTSettings(**self.settings())

    def fit(self, train, test, device, layer):
        from memprint.ct import LayerReference

        reference = LayerReference.fit(train, test, self.ct_settings(), device, layer=layer)
        return reference.state(), reference.warning

    def reference(self, state: dict, warning: str, train: np.ndarray):
        from memprint.ct import LayerReference

        return LayerReference.from_state(state, train, self.ct_settings(), warning)

    def score(self, state, train, test, generated, device, layer, resampling=None):
        from memprint.ct_interval import bootstrap_ct

        warning = str(state.get("warning", ""))
        reference = self.reference({k: v for k, v in state.items() if k != "warning"}, warning, train)
        if reference.undefined:
            result = reference.score(generated, device, layer=layer)
            replicates = np.full(resampling.replicates, np.nan) if resampling else None
            return LayerValue(result.ct, replicates, _detail(result, reference, generated))
        cells, dist, _ = reference.generated_neighbours(generated, device, layer=layer)
        result = reference.score_distances(cells, dist, layer=layer)
        replicates = None
        if resampling:
            p = resampling.counts(len(reference.test_cells), "test")
            q = resampling.counts(len(generated), "generated")
            replicates = bootstrap_ct(reference, cells, dist, p, q)
        return LayerValue(result.ct, replicates, _detail(result, reference, generated))


def _detail(result, reference, generated) -> dict:
    import json

    used = [g for g, z in zip(result.generated_per_cell, result.z_per_cell) if z is not None]
    return {
        "tau": result.tau,
        "cells_used": result.cells_used,
        "cells": len(result.z_per_cell),
        "n_test": len(reference.test_cells),
        "n_generated": len(generated),
        "min_generated_in_used_cell": min(used, default=0),
        "generated_per_cell": json.dumps(result.generated_per_cell),
        "test_per_cell": json.dumps(result.test_per_cell),
        "z_per_cell": json.dumps(result.z_per_cell),
        "warning": result.warning,
    }


def check_cells(key: str, spec: dict, fitted_on: int | None, test: int | None, what: str) -> None:
    """The cells against the set they are fit on and against P, and tau against the cells."""
    cells = spec["cells"]
    if fitted_on is not None and fitted_on < spec["min_test_per_cell"] * cells:
        raise config_error(
            f"{key}.cells",
            f"{cells} cells for {what} of {fitted_on} images: each cell needs at least {spec['min_test_per_cell']} "
            f"({spec['min_test_per_cell'] * cells} in all); lower cells or give more training images",
        )
    if test is not None and test < spec["min_test_per_cell"] * cells:
        raise config_error(
            f"{key}.cells",
            f"{cells} cells for a test set (P) of {test} images: C_T compares distances within each cell, so P needs "
            f"at least {spec['min_test_per_cell']} per cell ({spec['min_test_per_cell'] * cells}); lower cells or give "
            "more test images",
        )
    if spec["tau"] is not None and spec["tau"] >= 1 / cells:
        raise config_error(
            f"{key}.tau",
            f"{spec['tau']} with {cells} cells: a cell counts only when it holds more than {spec['tau']:.0%} of the "
            f"generated samples, which {cells} cells need not give; use tau below 1/cells ({1 / cells:.3g}) or leave "
            "it out (min_generated_per_cell)",
        )
