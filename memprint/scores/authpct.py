"""``authpct``: the authenticity percentage of dgm-eval (from Jiralerspong et al.'s FLD code, ``compute_authpct``):
a generated image is authentic when its nearest training image has another training image closer to it than the
generated image is. 100% = nothing sits closer to a training image than the training set itself does; a copier
scores near 0. The interval resamples Q (each image authentic or not, given T)."""

from __future__ import annotations

import numpy as np

from memprint.scores.base import LayerScore, LayerValue


class AuthPct(LayerScore):
    kind = "authpct"
    meaning = "authenticity (%): low = samples closer to training images than those are to each other"

    def fit(self, train, test, device, layer):
        """Each training image's distance to its nearest other training image (itself excluded)."""
        from memprint.search import nearest_distances

        train = np.asarray(train, np.float32)
        nearest = np.empty(len(train), np.float32)
        block = 4096
        for start in range(0, len(train), block):
            rows = slice(start, start + block)
            masked = np.arange(start, min(start + block, len(train)))
            nearest[rows] = nearest_distances(train[rows], train, "euclidean", device, exclude=masked)
        return {"train_nearest": nearest}, ""

    def score(self, state, train, test, generated, device, layer, resampling=None):
        from memprint.search import nearest_distances

        dist, rows = nearest_distances(
            np.asarray(generated, np.float32), np.asarray(train, np.float32), "euclidean", device, return_index=True
        )
        authentic = (state["train_nearest"][rows] < dist).astype(np.float64)
        replicates = None
        if resampling:
            counts = resampling.counts(len(generated), "generated")
            replicates = 100.0 * (counts @ authentic) / len(generated)
        detail = {"n_generated": len(generated), "n_authentic": int(authentic.sum())}
        return LayerValue(100.0 * float(authentic.mean()), replicates, detail)
