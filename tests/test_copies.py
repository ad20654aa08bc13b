"""The copy finder on synthetic embeddings, where the truth is known: held-out images get uniform p-values and
are flagged at the nominal rate per layer and family-wise, copies (also mirrored ones) are found with their
source, and test images go through the same transforms as generated ones."""

import numpy as np
import pytest
from scipy.stats import kstest

from memprint import MemprintError
from memprint.copies import calibrated, copy_rates, image_table, layer_table, pvalues, smallest, wilson_interval
from memprint.copy_finder import find
from memprint.ct import CTSettings, LayerReference

EVIDENCE = {"layers": None, "neighbour": 10, "candidates": 3, "side": 32, "shift": 3, "margin": 4, "sigma": 1.0}
EVIDENCE["weight"] = 2.0


def _mixture(rng, n):
    centres = np.array([[0, 0, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0], [0, 5, 0, 0, 0, 0]], float)
    return (centres[rng.integers(0, 3, n)] + rng.normal(size=(n, 6))).astype(np.float32)


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    train, test = _mixture(rng, 3000), _mixture(rng, 3000)
    return rng, train, LayerReference.fit(train, test, CTSettings(cells=3))


def _flags(refs, generated, test, level=0.01):
    """Image-level and per-layer flags of ``generated`` (transform -> per-layer arrays)."""
    found = find(refs, [f"l{k}" for k in range(len(refs))], generated, test)
    image_p = calibrated(smallest(found.scaled), found.null)
    layer_p = np.stack([calibrated(smallest(found.scaled[:, k]), found.layer_null[:, k]) for k in range(len(refs))], 1)
    return found, image_p <= level, layer_p <= level


def test_held_out_p_values_are_uniform_over_seeded_repetitions():
    pooled = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        ref = LayerReference.fit(_mixture(rng, 2000), _mixture(rng, 1500), CTSettings(cells=3, seed=seed))
        cells, dist, _ = ref.generated_neighbours(_mixture(rng, 500))
        pooled.append(pvalues(ref.test_cells, ref.test_dist, cells, dist, rng.random(len(dist))))
    assert kstest(np.concatenate(pooled), "uniform").pvalue > 0.01


def test_per_layer_flags_of_held_out_images_sit_at_the_nominal_level_without_an_off_by_one():
    """The old mid-rank percentile flagged an image with one closer test image in a cell of more than 100
    (score 1/101 < 0.01): 1.6% of held-out images instead of 1%. A smoothed conformal p-value is uniform."""
    rates = []
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        ref = LayerReference.fit(_mixture(rng, 2000), _mixture(rng, 1500), CTSettings(cells=3, seed=seed))
        cells, dist, _ = ref.generated_neighbours(_mixture(rng, 2000))
        rates.append((pvalues(ref.test_cells, ref.test_dist, cells, dist, rng.random(len(dist))) <= 0.01).mean())
    assert 0.006 < np.mean(rates) <= 0.0115, rates
    reference, half = np.arange(200.0), np.full(1, 0.5)  # one reference distance below 0.5, none tied
    assert pvalues(np.zeros(200, int), reference, np.zeros(1, int), np.array([0.5]), half)[0] == 1.5 / 201


def test_the_family_wise_rate_over_layers_and_transforms_holds(world):
    """Four correlated layers and two transforms: the image-level flag of held-out images stays at the level."""
    flagged = []
    for seed in range(5):
        rng = np.random.default_rng(200 + seed)
        base = {name: _mixture(rng, n) for name, n in (("train", 2000), ("test", 1500), ("q", 1000))}
        layers = {
            name: [x + rng.normal(0, 0.3, x.shape).astype(np.float32) for _ in range(4)] for name, x in base.items()
        }
        refs = [
            LayerReference.fit(t, p, CTSettings(cells=3, seed=seed)) for t, p in zip(layers["train"], layers["test"])
        ]
        mirror = {name: [np.concatenate([x[:, :2], -x[:, 2:]], 1) for x in layers[name]] for name in ("test", "q")}
        _, image, per_layer = _flags(
            refs, {"identity": layers["q"], "mirror": mirror["q"]}, {"identity": None, "mirror": mirror["test"]}
        )
        flagged.append(image.mean())
        assert per_layer.mean() <= 0.02
    assert np.mean(flagged) <= 0.0125, flagged
    low, high = wilson_interval(int(np.sum(flagged) * 1000), 5000)
    assert low <= 0.01 <= high or np.mean(flagged) < 0.01


def test_copies_and_mirrored_copies_are_flagged_with_their_source(world):
    rng, train, ref = world
    source = rng.choice(len(train), 300, replace=False)

    def mirror(x):  # a stand-in for a flip: an involution that keeps the distribution (the noise axes negated)
        return np.concatenate([x[:, :2], -x[:, 2:]], axis=1)

    test = _mixture(np.random.default_rng(9), 3000)
    ref = LayerReference.fit(train, test, CTSettings(cells=3))
    copies = train[source] + rng.normal(0, 1e-3, (300, 6)).astype(np.float32)
    fresh = _mixture(rng, 700)
    q = np.concatenate([copies, fresh])
    generated = {"identity": [q], "mirror": [mirror(q)]}
    found, image, _ = _flags([ref], generated, {"identity": None, "mirror": [mirror(test)]})
    assert image[:300].mean() > 0.98 and image[300:].mean() < 0.03
    rows = found.rows[np.arange(300), 0, np.nanargmin(found.scaled[:300, 0], axis=1)]
    assert (rows == source).mean() > 0.98
    mirrored = mirror(copies)  # a generator that mirrors its copies: found under the mirror transform
    found, image, _ = _flags(
        [ref], {"identity": [mirrored], "mirror": [mirror(mirrored)]}, {"identity": None, "mirror": [mirror(test)]}
    )
    assert image.mean() > 0.98
    table = image_table(
        found,
        np.arange(300).astype(str),
        np.arange(3000).astype(str),
        ["l0"],
        ["identity", "mirror"],
        0.01,
    )
    assert (table["transform"] == "mirror").mean() > 0.98 and (
        table["nearest_train_id"].astype(int) == source
    ).mean() > 0.98


def test_test_images_go_through_the_same_transforms_as_generated_ones(world):
    """A transform that pulls every embedding most of the way to its nearest training point makes everything look
    close to T. With P under the same transform the held-out images stay at the level; comparing them with P's
    untransformed distances (a finder that skipped P's transforms) flags most of them."""
    from sklearn.neighbors import NearestNeighbors

    rng, train, ref = world
    nearest = NearestNeighbors(n_neighbors=1).fit(train)

    def pull(x):
        return (0.1 * x + 0.9 * train[nearest.kneighbors(x)[1][:, 0]]).astype(np.float32)

    test, q = _mixture(np.random.default_rng(9), 3000), _mixture(rng, 1000)
    ref = LayerReference.fit(train, test, CTSettings(cells=3))
    _, image, _ = _flags([ref], {"identity": [q], "pull": [pull(q)]}, {"identity": None, "pull": [pull(test)]})
    assert image.mean() <= 0.025
    cells, dist, _ = ref.generated_neighbours(pull(q))
    skipped = pvalues(ref.test_cells, ref.test_dist, cells, dist, rng.random(len(dist)))  # P left untransformed
    assert (skipped <= 0.01).mean() > 0.5


def test_a_training_side_edit_finds_copies_that_lost_information_and_keeps_the_level(world):
    """An edit that loses information (two coordinates overwritten, as a crop loses the border) cannot be undone
    on Q; embedding T under it (label T:edit) finds such copies with their source, P matched against the edited
    T keeps held-out images at the level, and leaving P out is refused."""
    rng, train, ref = world

    def edit(x):
        return np.concatenate([x[:, :4], np.ones((len(x), 2), np.float32)], axis=1)

    test = _mixture(np.random.default_rng(9), 3000)
    ref = LayerReference.fit(train, test, CTSettings(cells=3))
    source = rng.choice(len(train), 200, replace=False)
    q = np.concatenate([edit(train[source]), _mixture(rng, 800)])
    _, plain, _ = _flags([ref], {"identity": [q]}, {"identity": None})
    assert plain[:200].mean() < 0.5
    label = "T:edit"
    found = find(
        [ref], ["l0"], {"identity": [q], label: [q]}, {"identity": None, label: [test]}, train={label: [edit(train)]}
    )
    image = calibrated(smallest(found.scaled), found.null) <= 0.01
    assert image[:200].mean() > 0.98 and image[200:].mean() <= 0.025
    assert (found.rows[:200, 0, 1] == source).mean() > 0.98
    with pytest.raises(MemprintError, match="needs P's embeddings as they are"):
        find([ref], ["l0"], {"identity": [q], label: [q]}, {"identity": None}, train={label: [edit(train)]})
    with pytest.raises(MemprintError, match="other rows than T"):
        find([ref], ["l0"], {label: [q]}, {label: [test]}, train={label: [edit(train[:10])]})


def test_layer_table_and_rates_carry_one_flag_per_image_and_layer(world):
    rng, train, ref = world
    q = np.concatenate([train[:50], _mixture(rng, 450)])
    found = find([ref, ref], ["a", "b"], {"identity": [q, q]}, {"identity": None})
    table = layer_table(
        found,
        np.arange(500).astype(str),
        np.arange(3000).astype(str),
        ["a", "b"],
        ["identity"],
        0.01,
    )
    rates = copy_rates(table)
    assert list(rates["layer_name"]) == ["a", "b"] and (rates["samples"] == 500).all()
    assert ((rates["copy_rate"] > 0.09) & (rates["copy_rate"] < 0.13)).all()


def test_wilson_interval_at_the_edges():
    low, high = wilson_interval(0, 100)
    assert low == 0.0 and 0.02 < high < 0.05
    low, high = wilson_interval(100, 100)
    assert high == 1.0 and 0.95 < low < 0.98


@pytest.mark.parametrize("statistic", [{"kind": "smallest"}, {"kind": "evidence", **EVIDENCE}])
def test_the_validation_plants_six_kinds_and_scores_every_method(rng, statistic):
    """With pixels (and a blurred copy) as the 'layers', exact and mirrored copies are found under the identity
    and the flip, by either image-level statistic; the table has the pure held-out row and one row per planted
    kind, every method beside."""
    from memprint.copies_validation import KINDS, validation_table

    def embed(images):
        flat = images.reshape(len(images), -1).astype(np.float32) / 255.0
        blurred = images.reshape(len(images), 4, 2, 4, 2, 3).mean((2, 4)).reshape(len(images), -1) / 255.0
        return [blurred.astype(np.float32), flat]

    smooth = rng.normal(size=(1, 8, 8, 3)) * 30 + 128
    draw = lambda n: np.clip(smooth + rng.normal(0, 40, (n, 8, 8, 3)), 0, 255).astype(np.uint8)  # noqa: E731
    train, test, fresh = draw(600), draw(400), draw(300)
    refs = [LayerReference.fit(t, p, CTSettings(cells=2)) for t, p in zip(embed(train), embed(test))]
    test_embedded = {"identity": None, "hflip": embed(test[:, :, ::-1])}
    table = validation_table(
        refs,
        ["blur", "pixels"],
        embed(train),
        test_embedded,
        fresh,
        train,
        test,
        embed,
        ["identity", "hflip"],
        0.01,
        {"fraction": 0.05, "seed": 0},
        statistic=statistic,
        test_plain=embed(test),
    )
    assert table["kind"].tolist() == ["held-out", *KINDS]
    kinds = table.set_index("kind")
    assert kinds.loc["exact", "auc"] > 0.97 and kinds.loc["flip", "auc"] > 0.97 and kinds.loc["exact", "flagged"] > 0.9
    assert kinds.loc["held-out", "flagged"] <= 0.05
    assert {"pixel_l2_auc", "dcr_auc", "pixel_l2_flagged", "dcr_flagged", "source_found"} <= set(table.columns)


def test_recolour_turns_hue_and_keeps_brightness(rng):
    from memprint.augment import recolour

    images = rng.integers(30, 220, (4, 8, 8, 3), dtype=np.uint8)
    turned = recolour(images, 120)
    assert not np.array_equal(turned, images)
    assert np.abs(turned.astype(float).mean(-1) - images.astype(float).mean(-1)).max() <= 1.0
    np.testing.assert_array_equal(recolour(images, 360), images)
    grey = images[..., :1]
    np.testing.assert_array_equal(recolour(grey, 90), grey)
    # 120 degrees maps the channels onto each other: red becomes green
    red = np.zeros((1, 1, 1, 3), np.uint8)
    red[..., 0] = 200
    assert recolour(red, 120)[0, 0, 0].tolist() == [0, 200, 0]


def test_zoom_and_unrotate_undo_a_crop_and_a_rotation(rng):
    from memprint.transforms import _resize, apply

    smooth = _resize(rng.integers(0, 256, (20, 8, 8, 3), dtype=np.uint8), (32, 32))

    def centre_error(a, b):
        return np.abs(a[:, 6:-6, 6:-6].astype(float) - b[:, 6:-6, 6:-6]).mean()

    for edit, undo in (("crop_0.8", "zoom_1.25"), ("rotate_15", "unrotate_-15")):
        edited = apply(edit, smooth)
        assert centre_error(apply(undo, edited), smooth) < 0.4 * centre_error(edited, smooth), (edit, undo)
    with pytest.raises(MemprintError, match=r"zoom_0.5.: 0.5 is out of range; give a zoom-out factor, in \(1, 8\]"):
        apply("zoom_0.5", smooth)


def test_the_pixel_view_finds_pixel_near_copies_an_encoder_misses_and_edits_p_alike(rng):
    """An 'encoder' of pure noise finds nothing; the pixel view (thumbnails matched like one more layer) finds
    exact and mirrored copies with their source, flags held-out images at the level, and mirrors P's thumbnails
    under hflip as it mirrors Q's."""
    from memprint.io import ImageSet
    from memprint.pixel_view import pixel_vectors, view_name, with_pixel_view

    def images(n):
        smooth = rng.normal(size=(n, 3, 3, 3)).repeat(4, 1).repeat(4, 2)  # 12 x 12, blocky: resizing keeps them
        return np.clip(128 + 40 * smooth + rng.normal(0, 8, (n, 12, 12, 3)), 0, 255).astype(np.uint8)

    train, test, fresh = images(1500), images(1500), images(950)
    sources = rng.choice(len(train), 50, replace=False)
    generated = np.concatenate([fresh, train[sources[:25]], train[sources[25:], :, ::-1]])
    sets = {
        name: ImageSet(x, np.zeros(len(x), int), np.arange(len(x)).astype(str).astype(object), {})
        for name, x in (("train", train), ("test", test), ("generated", generated))
    }
    noise = {
        name: [rng.normal(size=(len(x), 6)).astype(np.float32)]
        for name, x in (("train", train), ("test", test), ("generated", generated))
    }
    settings = CTSettings(cells=3).__dict__
    refs = [LayerReference.fit(noise["train"][0], noise["test"][0], CTSettings(cells=3))]
    q = {"identity": noise["generated"], "hflip": [rng.normal(size=(len(generated), 6)).astype(np.float32)]}
    p = {"identity": None, "hflip": [rng.normal(size=(len(test), 6)).astype(np.float32)]}
    p_alone = {"hflip": [p["hflip"][0]]}  # the validation embeds Q itself: P's thumbnails come without Q's
    with_pixel_view(refs, ["noise"], settings, sets, 8, {}, p_alone, {})
    assert np.array_equal(p_alone["hflip"][1], pixel_vectors(test[:, :, ::-1], 8))
    refs, names = with_pixel_view(refs, ["noise"], settings, sets, 8, q, p, {})
    assert names == ["noise", view_name(8)] and len(refs) == 2
    assert np.array_equal(p["hflip"][1], pixel_vectors(test[:, :, ::-1], 8))
    assert np.array_equal(q["hflip"][1], pixel_vectors(generated[:, :, ::-1], 8))
    found = find(refs, names, q, p)
    flagged = calibrated(smallest(found.scaled), found.null) <= 0.01
    assert flagged[950:].all() and flagged[:950].mean() <= 0.025
    pixel_rows = found.rows[950:, 1]  # (copies, matchings): the pixel view's nearest training rows
    assert (pixel_rows[:25, 0] == sources[:25]).all() and (pixel_rows[25:, 1] == sources[25:]).all()
