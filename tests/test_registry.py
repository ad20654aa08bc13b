"""The kind registries and the one config loader: a new generator kind is one class plus one schema block, every
default lives in the schema, and zoo entries are checked like any other generator."""

import os
import re
import textwrap

import pytest
import yaml

from memprint import MemprintError
from memprint.config import load_config, schema, validate
from memprint.encoders import Encoder
from memprint.generators import GeneratorKind, generator
from tests.conftest import REPO, TINY_CONFIG, snakemake

TOY_KIND = '''
"""A generator kind defined outside memprint: vertical stripes of a period, in T's image shape."""
import numpy as np

from memprint.generators import GeneratorKind


class Stripes(GeneratorKind):
    kind = "stripes"
    needs = ("train",)
    schema = {"required": ["period"],
              "properties": {"samples": {"type": "integer", "minimum": 2, "default": 1000},
                             "period": {"type": "integer", "minimum": 2}}}

    def sample(self, train, source=None, segment=None):
        n, (h, w, c) = self.samples, train.images.shape[1:]
        rng = np.random.default_rng(self.seed)
        phase = rng.integers(0, self.spec["period"], n)
        columns = (np.arange(w)[None, :] + phase[:, None]) % self.spec["period"] == 0
        images = np.broadcast_to(columns[:, None, :, None], (n, h, w, c)).astype(np.uint8) * 255
        return self.image_set(images, np.full(n, -1), train)
'''


def test_every_registered_kind_has_its_schema_block():
    dispatch = {family: schema()["properties"][family]["additionalProperties"] for family in ("generators", "encoders")}
    assert set(dispatch["generators"]["properties"]["kind"]["enum"]) == set(GeneratorKind.kinds)
    assert set(dispatch["encoders"]["properties"]["kind"]["enum"]) == set(Encoder.kinds)


@pytest.mark.pipeline
def test_a_new_generator_kind_is_one_class_plus_one_schema_block(tmp_path):
    (tmp_path / "toy_kind.py").write_text(textwrap.dedent(TOY_KIND))
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["plugins"] = ["toy_kind"]
    config["generators"]["stripes"] = {"kind": "stripes", "period": 3, "samples": 300, "seed": 2}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    plan = snakemake(tmp_path, path, "-n", "--quiet", "rules", env=env)
    assert plan.returncode == 0, plan.stderr[-2000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", plan.stdout, re.MULTILINE))
    assert (counts["sample_generator"], counts["score_curve"]) == ("7", "7")  # the tiny config's 6 and the new one
    made = snakemake(tmp_path, path, "results/imagesets/stripes.h5", env=env)
    assert made.returncode == 0, made.stderr[-2000:]
    from memprint.io import read_imageset

    stripes = read_imageset(tmp_path / "results/imagesets/stripes.h5")
    assert stripes.images.shape == (300, 8, 8, 1) and set(stripes.images.ravel()) == {0, 255}
    bad = {**config, "generators": {**config["generators"], "stripes": {"kind": "stripes", "period": 1}}}
    path.write_text(yaml.safe_dump(bad))
    refused = snakemake(tmp_path, path, "-n", env=env)
    assert (
        "config error at generators.stripes.period: 1 is less than the minimum of 2" in refused.stdout + refused.stderr
    )


def test_defaults_come_from_the_schema_file_to_every_user():
    """The library, the CLI and the loader see the settings the schema file writes down (read here as plain
    YAML text, not through memprint): Meehan et al.'s C_T (5 cells, more than 20 generated samples per cell,
    Euclidean, no PCA) and the InvMM authors' DDPM recipe."""
    from memprint.cli.parser import build_parser
    from memprint.ct import CTSettings
    from memprint.invmm import InvMMSettings

    text = yaml.safe_load((REPO / "memprint" / "schemas" / "config.schema.yaml").read_text())
    ct_block = text["$defs"]["score_kinds"]["ct"]["properties"]
    written = {k: v["default"] for k, v in ct_block.items() if "default" in v}
    assert (written["cells"], written["min_generated_per_cell"], written["distance"], written["pca_dim"]) == (
        5,
        20,
        "euclidean",
        None,
    )
    assert {k: getattr(CTSettings(), k) for k in written} == written
    assert (InvMMSettings().max_steps, InvMMSettings().noise_samples, InvMMSettings().threshold) == (2000, 32, 0.5)
    ct = build_parser().parse_args(["ct", "--train", "T", "--test", "P", "--generated", "Q"])
    assert (ct.cells, ct.min_generated_per_cell, ct.distance) == (5, 20, "euclidean")
    assert generator("k", {"kind": "kde", "bandwidth": 0.1}).samples == 1000
    config = load_config(REPO / "config.yaml")
    assert config["generators"]["copier"]["noise"] == 0.0 and "bandwidth" not in config["generators"]["copier"]
    assert (config["runtime"]["device"], config["runtime"]["precision"], config["runtime"]["batch_size"]) == (
        "auto",
        "auto",
        256,
    )


def test_zoo_entries_are_expanded_then_checked_like_any_generator():
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["zoo"] = {"models": {"gan": {"arch": "dcgan", "width": 8}}, "epochs": [1, 2], "samples": 300}
    validate(config)
    entry = config["generators"]["gan_s0_e2"]
    assert entry == {
        "kind": "zoo",
        "model": "gan",
        "train_seed": 0,
        "epoch": 2,
        "architecture": "gan",
        "run": "gan_s0",
        "samples": 300,
        "shards": 1,
        "seed": 0,
    }
    clash = yaml.safe_load(TINY_CONFIG.read_text())
    clash["zoo"] = {"models": {"gan": {"arch": "dcgan"}}, "epochs": [1], "samples": 300}
    clash["generators"]["gan_s0_e1"] = {"kind": "copier"}
    with pytest.raises(MemprintError, match=r"\['gan_s0_e1'\] also name zoo generators"):
        validate(clash)
