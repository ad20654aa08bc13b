"""Fingerprint evaluation: the protocol's splits, the three matching methods, leave-one-model-out, open set,
bootstrap intervals, the checkpoint-heatmap statistic, and the baselines."""

import numpy as np
import pandas as pd
import pytest
import torch

from memprint import MemprintError
from memprint.baselines import (
    build_classifier,
    majority_vote,
    set_statistics,
    train_classifier,
)
from memprint.fingerprint import (
    accuracy_rows,
    closed_set,
    cluster_bootstrap,
    curve_matrix,
    intra_minus_inter,
    leave_one_model_out,
    match_scores,
    open_set,
    pair_scores,
    protocol_splits,
    roc,
    similarity_matrix,
)


def test_match_scores_follow_their_definitions():
    db = np.array([[1.0, 0.0], [10.0, 0.5], [0.0, 1.0]])
    q = np.array([2.0, 0.1])
    assert np.argmax(match_scores(q, db, "l2")) == 0
    cos = match_scores(q, db, "cosine")
    assert cos[1] == pytest.approx(np.dot(q, db[1]) / np.linalg.norm(q) / np.linalg.norm(db[1]))
    l2 = np.linalg.norm(db - q, axis=1)
    np.testing.assert_allclose(match_scores(q, db, "combined"), 0.5 * cos + 0.5 / (1 + l2))


def test_protocol_splits_hold_out_targets_and_nest_references():
    splits = protocol_splits(1500, 500, [500, 1000], 3, seed=4)
    for target, refs in splits:
        assert len(target) == 500 and not set(target) & set(refs[1000])
        assert set(refs[500]) <= set(refs[1000]) and len(refs[1000]) == 1000
    again = protocol_splits(1500, 500, [500, 1000], 3, seed=4)
    assert all((a[0] == b[0]).all() for a, b in zip(splits, again))
    assert not (splits[0][0] == splits[1][0]).all()
    with pytest.raises(
        MemprintError, match=r"needs target_size .* = 1500 samples per generator, but a generator has 1000"
    ):
        protocol_splits(1000, 500, [500, 1000], 1, seed=0)


def _curves(rng, shapes, splits=2, sizes=(10, 20), layer0_noise=0.0, noise=0.05):
    """Long C_T table: every generator's target and reference curves; shape + noise, layer 0 pure noise."""
    rows = []
    for name, shape in shapes.items():
        for split in range(splits):
            for role, size in [("target", 10)] + [("reference", s) for s in sizes]:
                values = np.r_[rng.normal(0, layer0_noise), shape + rng.normal(0, noise, len(shape))]
                rows += [
                    {
                        "generator": name,
                        "architecture": name.split("_")[0],
                        "run": name,
                        "split": split,
                        "role": role,
                        "set_size": size,
                        "layer": layer,
                        "value": ct,
                    }
                    for layer, ct in enumerate(values)
                ]
    return pd.DataFrame(rows)


SHAPES = {
    "a_1": np.array([1.0, 2, 3]),
    "a_2": np.array([1.1, 2.1, 2.9]),
    "b_1": np.array([3.0, 2, 1]),
    "c_1": np.array([-2.0, -2, -2]),
}


def test_distinct_curves_are_recognised_and_layer_0_is_ignored(rng):
    scores = pair_scores(curve_matrix(_curves(rng, SHAPES, layer0_noise=100.0)))
    matches = closed_set(scores)
    assert len(matches) == 4 * 2 * 2 * 3  # generators x splits x reference sizes x methods
    assert matches["correct"].all()
    table = accuracy_rows(matches, ["method", "set_size"])
    assert (table["accuracy"] == 1).all() and (table["ci_low"] == 1).all() and (table["targets"] == 8).all()


def test_leave_one_model_out_removes_the_own_run_and_skips_lone_architectures(rng):
    matches = leave_one_model_out(pair_scores(curve_matrix(_curves(rng, SHAPES))))
    assert set(matches["target"]) == {"a_1", "a_2"}  # b and c have no second run to be matched to
    assert (matches["match"] != matches["target"]).all() and matches["correct"].all()


def test_open_set_scores_known_above_unknown_for_separated_architectures(rng):
    scores = pair_scores(curve_matrix(_curves(rng, SHAPES)), methods=("l2",))
    table = open_set(scores)
    assert table["known"].sum() == (~table["known"]).sum() == 4 * 2 * 2
    curve, auc = roc(table)
    assert auc == 1.0 and curve["true_accept"].iloc[-1] == 1.0
    with pytest.raises(MemprintError, match="at least two architectures"):
        roc(table[table["known"]])


def test_cluster_bootstrap_resamples_whole_generators():
    values = np.r_[np.ones(50), np.zeros(50)]
    same_cluster = cluster_bootstrap(values, np.zeros(100))
    assert same_cluster == (0.5, 0.5)  # one generator: resampling it changes nothing
    per_image = cluster_bootstrap(values, np.arange(100))
    two_generators = cluster_bootstrap(values, np.r_[np.zeros(50), np.ones(50)])
    assert two_generators == (0.0, 1.0)
    assert 0.35 < per_image[0] < 0.45 and 0.55 < per_image[1] < 0.65


def test_intra_minus_inter_similarity_of_two_clear_architectures(rng):
    curves = pd.DataFrame(
        [
            {"generator": f"{arch}{k}", "layer": layer, "value": ct}
            for arch, shape in (("a", [0, 1, 2, 3]), ("b", [0, 3, 2, 1]))
            for k in range(3)
            for layer, ct in enumerate(np.array(shape) + rng.normal(0, 0.01, 4))
        ]
    )
    sim = similarity_matrix(curves)
    assert sim.loc["a0", "a0"] == pytest.approx(1.0)
    stat = intra_minus_inter(sim, {g: g[0] for g in sim.index}, n_boot=200)
    expected = np.dot([1, 2, 3], [3, 2, 1]) / 14
    assert stat["intra_minus_inter"] == pytest.approx(1 - expected, abs=0.01)
    assert stat["ci_low"] <= stat["intra_minus_inter"] <= stat["ci_high"]
    with pytest.raises(MemprintError, match="an architecture with two generators"):
        intra_minus_inter(sim, {g: g for g in sim.index})


def test_set_statistics_are_pixel_moments_and_frechet_distance(rng):
    images = rng.integers(0, 256, (40, 4, 4, 3), dtype=np.uint8)
    features = rng.normal(size=(40, 5))
    stats = set_statistics(images, features, features)
    assert stats["mean_c1"] == pytest.approx(images[..., 1].mean() / 255)
    assert stats["std_c2"] == pytest.approx(images[..., 2].std() / 255)
    assert stats["fid"] == pytest.approx(0.0, abs=1e-6)
    assert set_statistics(images, features + 1.0, features)["fid"] == pytest.approx(5.0, rel=1e-3)


def test_vanilla_cnn_learns_a_separable_task_and_votes(rng):
    """Dark vs bright images: a few epochs suffice, and each target set gets its own label by majority vote."""
    dark = rng.integers(0, 60, (64, 8, 8, 1), dtype=np.uint8)
    bright = rng.integers(190, 256, (64, 8, 8, 1), dtype=np.uint8)
    spec = {"kind": "cnn", "image_size": 8, "epochs": 5, "lr": 1e-3}
    model, used = train_classifier(
        spec,
        np.concatenate([dark, bright]),
        np.r_[np.zeros(64), np.ones(64)],
        2,
        torch.device("cpu"),
        seed=0,
        batch_size=16,
    )
    assert used.startswith("random init")
    assert majority_vote(model, dark[:20], spec, torch.device("cpu"))[0] == 0
    label, share = majority_vote(model, bright[:20], spec, torch.device("cpu"))
    assert label == 1 and share > 0.9


def test_torchvision_classifiers_get_a_new_head_and_reject_wrong_weights(tmp_path):
    spec = {"kind": "torchvision", "arch": "resnet18", "image_size": 32}
    model, used = build_classifier(spec, classes=6, in_channels=3)
    assert model.fc.out_features == 6 and used == "random init"
    saved = tmp_path / "resnet18.pt"
    torch.save(model.state_dict() | {"fc.weight": torch.zeros(1000, 512), "fc.bias": torch.zeros(1000)}, saved)
    reloaded, used = build_classifier(spec, 6, 3, str(saved))
    assert used.startswith(f"{saved} (sha256 ")
    torch.testing.assert_close(reloaded.conv1.weight, model.conv1.weight)
    wrong = tmp_path / "wrong.pt"
    torch.save({"conv1.weight": torch.zeros(1)}, wrong)
    with pytest.raises(MemprintError, match="do not fit torchvision resnet18"):
        build_classifier(spec, 6, 3, str(wrong))
    with pytest.raises(MemprintError, match="not supported"):
        build_classifier({**spec, "arch": "alexnet"}, 6, 3)


def test_sets_too_small_for_the_protocol_are_left_out_with_the_reason():
    import yaml

    from memprint.config import validate
    from memprint.config_checks import fingerprint_plan, fingerprinting
    from tests.conftest import TINY_CONFIG

    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["generators"]["copier"]["samples"] = 256  # below the 100 + 200 the protocol needs
    config["generators"]["kde_0.1"]["samples"] = 120
    validate(config)  # an optional part never stops the run
    used, left_out = fingerprint_plan(config)
    assert sorted(left_out) == ["copier", "kde_0.1"] and "copier" not in used
    assert left_out["copier"] == "256 samples, fewer than the protocol's 100 target + 200 reference images"
    assert fingerprinting(config)


def _embedding_file(path, rows: np.ndarray) -> str:
    from memprint.embedding_files import EmbeddingWriter

    writer = EmbeddingWriter(
        path,
        ["patch_embed", "blocks.00"],
        [rows.shape[1]] * 2,
        len(rows),
        np.arange(len(rows)).astype(str).astype(object),
        "k",
        {},
    )
    writer.write(0, [rows, rows])
    writer.finish()
    writer.close()
    return str(path)


def test_a_set_without_any_scorable_cell_is_left_out_not_failed(tmp_path, rng):
    """Sets of 256 and 448 samples with 120-image fingerprint sets under 10 cells: C_T cannot score a 120-image
    set (no cell holds more than 20 of its images), so the generator is left out of the fingerprint with the
    reason instead of failing; its whole set still has a C_T score."""
    from memprint.ct import CTSettings
    from memprint.embedding_files import read_embeddings
    from memprint.io import read_csv, read_csv_provenance
    from memprint.stages.fingerprint_curves import fingerprint_curves
    from memprint.stages.scores import fit_references, load_ct_references

    train = _embedding_file(tmp_path / "train.h5", rng.normal(size=(400, 8)))
    test = _embedding_file(tmp_path / "test.h5", rng.normal(size=(200, 8)))
    reference = str(tmp_path / "reference.h5")
    scores = {"ct": {"kind": "ct", **CTSettings(cells=10).__dict__}}
    fit_references(train=train, test=test, scores=scores, references={"ct": reference}, device="cpu")
    protocol = {"target_size": 120, "reference_sizes": [120], "splits": 2, "seed": 0}
    for n in (256, 448):
        generated = _embedding_file(tmp_path / f"q{n}.h5", rng.normal(size=(n, 8)))
        out = tmp_path / f"curves{n}.csv"
        fingerprint_curves(
            references={"ct": reference},
            train=train,
            test=test,
            generated=generated,
            scores=scores,
            encoder="e",
            generator=f"q{n}",
            architecture="a",
            run=f"q{n}",
            protocol=protocol,
            curves={"ct": str(out)},
            device="cpu",
        )
        assert read_csv(out).empty
        assert "has no ct score" in read_csv_provenance(out)["left_out"]
        refs, _ = load_ct_references(reference, read_embeddings(train))
        assert refs[1].score(read_embeddings(generated).layers[1]).cells_used > 0
