"""The ablation's maths (memprint.paper_scale): slopes per block, and verdicts computed from replicates on curves
whose truth is known."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from memprint.paper_scale import rises_with_depth, slopes, verdict_markdown, verdict_table


@dataclass(frozen=True)
class Setup:
    encoder: str = "small"
    train: str = "10k"
    test: str = "1k"
    generated: str = "equal"


def test_the_slope_is_per_block_and_leaves_the_patch_embedding_out():
    layers = np.arange(13, dtype=float)
    curve = 0.25 * layers - 3.0
    curve[0] = 100.0  # layer 0 (the patch embedding) is not a block
    assert np.isclose(slopes(curve), 0.25)
    assert np.allclose(slopes(np.stack([curve, -curve])), [0.25, -0.25])


def _curves(rng, slope_by_setup: dict, noise=0.01, replicates=200) -> pd.DataFrame:
    records = []
    for setup, slope in slope_by_setup.items():
        for measure in ("ct", "effect"):
            for layer in range(13):
                value = slope * layer
                records.append(
                    {**setup.__dict__, "setting": "ct", "measure": measure, "generator": "g", "layer": layer,
                     "value": value, "replicates": value + rng.normal(0, noise, replicates)}
                )  # fmt: skip
    return pd.DataFrame(records)


def test_a_factor_that_moves_the_slope_is_named_and_one_that_does_not_is_not(rng):
    cpu, big_input, big_test = Setup(), Setup(encoder="large"), Setup(test="10k")
    setups = {"CPU setup": cpu, "input": big_input, "P": big_test}
    curves = _curves(rng, {cpu: 0.01, big_input: 0.05, big_test: 0.01})
    table = verdict_table(curves, setups, {"G": ["g"]}).set_index("factor")
    assert table.loc["input", "verdict"].startswith("moves the G slope by +0.0400")
    assert table.loc["input", "effect_low"] < 0.04 < table.loc["input", "effect_high"]
    assert table.loc["P", "verdict"].startswith("no effect within the interval")
    depth = rises_with_depth(curves, {"G": ["g"]}, big_input).set_index("measure")
    assert depth.loc["ct", "verdict"] == "rises"
    flat = rises_with_depth(_curves(rng, {cpu: 0.0}, noise=0.05), {"G": ["g"]}, cpu).set_index("measure")
    assert flat.loc["ct", "verdict"] == "no trend within the interval"
    text = verdict_markdown(verdict_table(curves, setups, {"G": ["g"]}), depth.reset_index())
    assert "| input | ct | **+0.0400 [" in text and "(no effect) |" in text
    assert '"C_T rises with depth" holds for G (ct)' in text and "moves a group's effect-size slope" in text
    assert "beyond its interval: input (G)." in text
