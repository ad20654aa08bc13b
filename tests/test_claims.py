"""Claims: statistics, intervals and verdicts computed from (synthetic) replicate curves."""

import numpy as np
import pandas as pd
import pytest

from memprint.claims import Curve, Role, verdict
from memprint.claims_table import claims_markdown, claims_table, known_answer_checks

LAYERS = 12


def _curve(rng, shape, noise=0.3, replicates=400):
    point = np.asarray(shape, float)
    return Curve(point, point + rng.normal(0, noise, size=(replicates, len(point))))


@pytest.fixture
def synthetic(rng):
    layers = np.arange(LAYERS + 1, dtype=float)
    rising = -2 + 0.5 * layers
    early_peak = np.where(layers <= 4, 6.0, 0.0)
    curves = {
        "gan_a": _curve(rng, rising),
        "gan_b": _curve(rng, rising + 0.2),
        "vae_a": _curve(rng, 3 - 0.1 * layers),
        "vae_b": _curve(rng, 3.1 - 0.1 * layers),
        "rot": _curve(rng, rising + early_peak),
        "bg": _curve(rng, rising + np.where(layers == LAYERS, -4.0, 2.0)),
        "shuffle": _curve(rng, rising + np.where(layers <= 4, -5.0, 0.0)),  # early drop: contradicts the claim
        "kde_1": _curve(rng, np.full(LAYERS + 1, -8.0)),
        "kde_2": _curve(rng, np.full(LAYERS + 1, -1.0)),
        "kde_3": _curve(rng, np.full(LAYERS + 1, 5.0)),
    }
    zoo = "zoo models (trained here)"
    roles = {
        **{g: Role("zoo", group=zoo, architecture=g.split("_")[0]) for g in ("gan_a", "gan_b", "vae_a", "vae_b")},
        "rot": Role("rotate", shift="low_level"),
        "bg": Role("noise_background", shift="background"),
        "shuffle": Role("patch_shuffle", shift="patch_shuffle"),
        **{f"kde_{i}": Role("kde", sweep=b) for i, b in ((1, 0.02), (2, 0.1), (3, 0.3))},
    }
    return curves, roles


def test_verdicts_follow_the_interval_and_the_claimed_side():
    assert verdict(0.1, 0.5, 1) == "confirmed" and verdict(-0.5, -0.1, -1) == "confirmed"
    assert verdict(-0.5, -0.1, 1) == "contradicted" and verdict(0.1, 0.5, -1) == "contradicted"
    assert verdict(-0.1, 0.5, 1) == "inconclusive" and verdict(np.nan, 1, 1) == "inconclusive"


def test_each_claim_is_confirmed_contradicted_or_not_applicable_as_the_curves_say(synthetic):
    curves, roles = synthetic
    table = claims_table(curves, roles, ["gan_a"], None, None, seed=0).set_index("claim")
    found = table["verdict"].to_dict()
    # two rising and two falling real curves: the mean slope's sign is not settled
    assert found["C_T of real generated samples rises with depth"] == "inconclusive"
    assert found["rot (rotate) shifts the early layers more than the late ones"] == "confirmed"
    assert found["bg (noise_background) drops the relative C_T at the last layer"] == "confirmed"
    assert found["shuffle (patch_shuffle) leaves the early layers near the baseline, deeper layers rise"] == "confirmed"
    assert found["Meehan et al.: C_T rises with the KDE bandwidth"] == "confirmed"
    assert found["curves of one architecture are more alike than of different ones"] == "confirmed"
    assert found["fingerprinting by C_T-layer curves beats the statistics baseline"] == "not applicable"
    assert table.loc["rot (rotate) shifts the early layers more than the late ones", "estimate"] == pytest.approx(6.0)


def test_a_claim_the_data_contradict_is_reported_contradicted(synthetic, rng):
    curves, roles = synthetic
    layers = np.arange(LAYERS + 1, dtype=float)
    curves["rot"] = _curve(rng, -2 + 0.5 * layers + np.where(layers >= 9, 6.0, 0.0))  # a late, not early, shift
    curves["kde_2"] = _curve(rng, np.full(LAYERS + 1, -9.0))  # C_T falls from bandwidth 0.02 to 0.1
    table = claims_table(curves, roles, ["gan_a"], None, None, seed=0).set_index("claim")
    assert table.loc["rot (rotate) shifts the early layers more than the late ones", "verdict"] == "contradicted"
    assert table.loc["Meehan et al.: C_T rises with the KDE bandwidth", "verdict"] == "contradicted"


def test_missing_generators_make_claims_not_applicable_with_a_reason(synthetic):
    curves, roles = synthetic
    only = {g: curves[g] for g in ("kde_1", "kde_2")}
    table = claims_table(only, roles, [], None, None, seed=0)
    shifts = table[table["id"].str.startswith("shift_")]
    assert (shifts["verdict"] == "not applicable").all() and shifts["reason"].str.len().gt(0).all()
    markdown = claims_markdown(table.assign(setting="ct"))
    assert markdown.count("\n") == len(table) + 2 and "n/a (" in markdown


def test_fingerprint_claim_pairs_targets_and_resamples_generators():
    rows, stats = [], []
    for g, arch in (("a1", "a"), ("a2", "a"), ("b1", "b"), ("b2", "b")):
        for split in range(3):
            for role, size in (("target", 10), ("reference", 10)):
                level = {"a": 0.0, "b": 5.0}[arch] + (0.1 if role == "target" else 0.0)
                keys = {"generator": g, "architecture": arch, "run": g, "split": split, "role": role, "set_size": size}
                for layer in range(4):
                    rows.append({**keys, "layer": layer, "value": level + layer * (1 if arch == "a" else -1)})
                # statistics that cannot tell the architectures apart
                stats.append({**keys, "mean_c0": 0.5 + 0.01 * split, "std_c0": 0.2, "fid": 1.0})
    from memprint.claims_table import fingerprint_claim

    row = fingerprint_claim(pd.DataFrame(rows), pd.DataFrame(stats), seed=0)
    assert row["estimate"] > 0 and row["ci_low"] <= row["estimate"] <= row["ci_high"]
    assert row["reason"] == "12 targets, 10 reference images"


def test_known_answer_checks_read_each_layer_of_a_copier_and_a_perfect_generator():
    def curve(ct, low, high):
        return pd.DataFrame({"layer": range(len(ct)), "value": ct, "low": low, "high": high})

    curves = {
        "copy": curve([-9, -8, -1.5], [-10, -9, -2.5], [-8, -7, -0.5]),
        "fresh": curve([0.2, 3.0, -0.1], [-0.8, 2.1, -1.0], [1.1, 3.9, 0.9]),
        "kde": curve([1, 2, 3], [0, 1, 2], [2, 3, 4]),
    }
    roles = {"copy": Role("copier", known_answer="copies"), "fresh": Role("unaltered", known_answer="held-out")}
    checks = known_answer_checks(curves, {**roles, "kde": Role("kde", sweep=0.1)}).set_index("generator")
    assert list(checks.index) == ["copy", "fresh"]  # the KDE's answer is not known in advance
    assert (checks.loc["copy", "layers_as_expected"], checks.loc["copy", "layers_not"]) == (2, "2")
    assert (checks.loc["fresh", "layers_as_expected"], checks.loc["fresh", "layers_not"]) == (2, "1")


def test_claims_about_real_samples_are_tested_per_group_and_published_family(synthetic, rng):
    curves, roles = synthetic
    layers = np.arange(LAYERS + 1, dtype=float)
    published = "published models"
    for name, family, arch, shape in (
        ("pub_gan_1", "gan", "gan", 0.3 * layers),
        ("pub_gan_2", "gan", "gan", 0.3 * layers + 0.1),
        ("pub_ddpm_1", "diffusion", "ddpm", -0.2 * layers),
        ("pub_ddpm_2", "diffusion", "ddpm", -0.2 * layers + 0.1),
    ):
        curves[name] = _curve(rng, shape)
        roles[name] = Role("published", group=published, family=family, architecture=arch)
    table = claims_table(curves, roles, ["gan_a", "pub_gan_1"], None, None, seed=0)
    depth = table[table["id"] == "depth"].set_index("subject")["verdict"].to_dict()
    assert depth == {
        "zoo models (trained here)": "inconclusive",
        published: "inconclusive",
        f"{published}: diffusion": "contradicted",
        f"{published}: gan": "confirmed",
    }
    architecture = table[table["id"] == "architecture"].set_index("subject")["verdict"]
    assert architecture.to_dict() == {"zoo models (trained here)": "confirmed", published: "confirmed"}
    rotation = table[table["claim"].str.startswith("rot ")]
    assert rotation["subject"].tolist() == ["against gan_a", "against pub_gan_1"]
    assert "| zoo models (trained here) (gan_a, gan_b, vae_a, vae_b) |" in claims_markdown(table.assign(setting="ct"))


def test_roles_are_read_off_the_generator_kinds():
    from memprint.generators import generator

    assert Role.of(generator("r", {"kind": "rotate", "angle": 30})).shift == "low_level"
    assert Role.of(generator("b", {"kind": "landscape_background"})).shift == "background"
    assert Role.of(generator("k", {"kind": "kde", "bandwidth": 0.1})).sweep == 0.1
    assert Role.of(generator("c", {"kind": "copier"})).known_answer == "copies"
    assert Role.of(generator("p", {"kind": "unaltered", "source": "heldout"})).known_answer == "held-out"
    assert Role.of(generator("u", {"kind": "unaltered"})).known_answer == ""
    gmm = Role.of(generator("g", {"kind": "gmm", "components": 3}))
    assert (gmm.group, gmm.shift, gmm.sweep) == ("fitted models", "", None)
    assert Role.of(generator("z", {"kind": "zoo", "model": "m", "train_seed": 0, "epoch": 1})).group.startswith("zoo")
