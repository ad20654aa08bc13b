"""InvMM on CPU with a tiny diffusers UNet: the gradient path end to end, batch independence, the duplicated
training set it is validated on, and the pipeline stage."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from memprint import MemprintError, datasets
from memprint.invmm import (
    InvMMSettings,
    PixelCorrelation,
    invert,
    make_similarity,
    roc_auc,
)
from memprint.io import ImageSet
from tests.conftest import TINY_CONFIG, snakemake

CPU = torch.device("cpu")
FAST = InvMMSettings(noise_samples=8, max_steps=60, check_every=20, check_images=4, ddim_steps=20)


def tiny_unet():
    from diffusers import UNet2DModel

    return UNet2DModel(
        sample_size=8,
        in_channels=1,
        out_channels=1,
        layers_per_block=1,
        block_out_channels=(16, 32),
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
        norm_num_groups=8,
    )


@pytest.fixture(scope="module")
def memorizing_model():
    """A tiny UNet trained (200 steps) on one image only: every noise leads the sampler back to it."""
    from diffusers import DDPMScheduler

    torch.manual_seed(0)
    unet, schedule = tiny_unet(), DDPMScheduler()
    alphas = schedule.alphas_cumprod
    rng = torch.Generator().manual_seed(0)
    memorized = torch.rand(1, 1, 8, 8, generator=rng) * 2 - 1
    optimiser = torch.optim.Adam(unet.parameters(), lr=3e-3)
    for _ in range(200):
        noise, t = torch.randn(64, 1, 8, 8), torch.randint(0, 1000, (64,))
        a = alphas[t].view(-1, 1, 1, 1)
        loss = torch.nn.functional.mse_loss(unet(a.sqrt() * memorized + (1 - a).sqrt() * noise, t).sample, noise)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    other = torch.rand(1, 1, 8, 8, generator=rng) * 2 - 1
    return unet.eval(), dict(schedule.config), memorized, other


def test_memorized_image_scores_lower_than_a_random_one(memorizing_model):
    unet, schedule, memorized, other = memorizing_model
    results = invert(unet, schedule, torch.cat([memorized, other]), PixelCorrelation(), FAST, CPU, progress=False)
    assert results[0]["reproduced"] and results[0]["min_similarity"] >= 0.5 and results[0]["steps"] == 20
    assert np.isfinite(results[0]["score"]) and results[0]["score"] < results[1]["score"]
    assert not results[1]["reproduced"] and results[1]["steps"] == FAST.max_steps
    assert results[1]["weight"] < 1.0  # a stalled loss halves the weight
    assert all(not p.requires_grad for p in unet.parameters())  # only the noise distribution is optimised


def test_gradients_reach_the_noise_distribution(memorizing_model):
    """With the KL weight at 0, only the reconstruction loss can move mu: it flows back through the UNet."""
    unet, schedule, _, other = memorizing_model
    reconstruction_only = InvMMSettings(
        noise_samples=4, max_steps=3, check_every=2, check_images=2, ddim_steps=2, weight_start=0.0, weight_growth=0.0
    )
    result = invert(unet, schedule, other, PixelCorrelation(), reconstruction_only, CPU, progress=False)[0]
    assert result["weight"] == 0.0 and result["mean_abs_mu"] > 0.01


def test_an_image_scores_the_same_in_any_batch(memorizing_model):
    unet, schedule, memorized, other = memorizing_model
    alone = invert(unet, schedule, other, PixelCorrelation(), FAST, CPU, image_numbers=[7], progress=False)
    together = invert(
        unet,
        schedule,
        torch.cat([memorized, other]),
        PixelCorrelation(),
        FAST,
        CPU,
        image_numbers=[3, 7],
        progress=False,
    )
    assert alone[0]["min_similarity"] == pytest.approx(together[1]["min_similarity"], abs=1e-4)
    assert alone[0]["weight"] == pytest.approx(together[1]["weight"])


def test_wrong_shape_and_unknown_similarity_are_refused(memorizing_model):
    unet, schedule, _, _ = memorizing_model
    with pytest.raises(MemprintError, match=r"shape \(1, 3, 8, 8\), the model makes \(1, 8, 8\)"):
        invert(unet, schedule, torch.zeros(1, 3, 8, 8), PixelCorrelation(), FAST, CPU, progress=False)
    with pytest.raises(MemprintError, match="similarity 'lpips' is unknown"):
        make_similarity({"kind": "lpips"}, CPU)


def test_pixel_correlation_is_one_for_affine_copies_and_zero_for_orthogonal():
    a = torch.tensor([[1.0, -1.0, 1.0, -1.0]])
    assert PixelCorrelation()(a, 3 * a + 0.5).item() == pytest.approx(1.0)
    assert PixelCorrelation()(a, torch.tensor([[1.0, 1.0, -1.0, -1.0]])).item() == pytest.approx(0.0)


def test_duplicated_training_set_marks_its_copies(rng):
    base = ImageSet(
        rng.integers(0, 255, (10, 4, 4, 1), dtype=np.uint8),
        np.arange(10),
        np.array([f"img/{i}" for i in range(10)], dtype=object),
        {},
    )
    dup = datasets.with_duplicates(base, images=3, copies=4, seed=1)
    assert len(dup) == 10 + 3 * 3 and len(dup.attrs["duplicated_ids"]) == 3
    copies = [i for i in dup.image_ids if datasets.DUPLICATE_MARK in i]
    assert {c.split(datasets.DUPLICATE_MARK)[0] for c in copies} == set(dup.attrs["duplicated_ids"])
    with pytest.raises(MemprintError, match="copies >= 2"):
        datasets.with_duplicates(base, images=3, copies=1, seed=1)


def test_duplicated_and_singles_scores_every_duplicated_image_and_as_many_single_ones(rng):
    from memprint.stages.invmm import duplicated_and_singles

    base = ImageSet(
        rng.integers(0, 255, (40, 4, 4, 1), dtype=np.uint8),
        np.arange(40) % 4,
        np.array([f"img/{i}" for i in range(40)], dtype=object),
        {},
    )
    dup = datasets.with_duplicates(base, images=4, copies=3, seed=2)
    originals = [i for i, name in enumerate(dup.image_ids) if datasets.DUPLICATE_MARK not in name]
    duplicated = set(dup.attrs["duplicated_ids"])
    rows = duplicated_and_singles(dup, originals, duplicated, seed=0)
    picked = [str(dup.image_ids[i]) in duplicated for i in rows]
    assert sum(picked) == 4 and len(rows) == 8 and rows == sorted(rows) and set(rows) <= set(originals)
    assert rows == duplicated_and_singles(dup, originals, duplicated, seed=0)
    with pytest.raises(MemprintError, match=r"data\.duplicates"):
        duplicated_and_singles(base, list(range(40)), set(), seed=0)


def test_roc_auc_ranks_never_reproduced_images_least_memorized():
    scores = np.array([0.1, 0.2, np.inf, 0.3, np.inf])
    assert roc_auc(scores, np.array([True, True, False, False, False])) == 1.0
    assert roc_auc(scores, np.array([False, False, True, False, True])) == 0.0


@pytest.mark.pipeline
def test_invmm_stage_scores_shards_and_draws_the_figure(tmp_path):
    """A local UNet2DModel folder scored on 4 training images in 2 shards, T holding duplicated images."""
    folder = tmp_path / "unet"
    torch.manual_seed(0)
    tiny_unet().save_pretrained(folder)
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    cfg["data"]["duplicates"] = {"images": 3, "copies": 5, "seed": 0}
    cfg["generators"]["unet"] = {
        "kind": "diffusion",
        "model": str(folder),
        "scheduler": "ddim",
        "steps": 5,
        "samples": 300,
    }
    cfg["invmm"] = {
        "generators": ["unet"],
        "limit": 4,
        "shards": 2,
        "similarity": {"kind": "pixel_correlation"},
        "settings": {"noise_samples": 2, "max_steps": 4, "check_every": 2, "check_images": 2, "ddim_steps": 3},
    }
    config = tmp_path / "invmm.yaml"
    config.write_text(yaml.safe_dump(cfg))
    result = snakemake(tmp_path, config, "--cores", "2", "results/figures/invmm/unet.png")
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(tmp_path / "results/invmm/unet.csv", comment="#")
    assert table["image"].tolist() == [0, 1, 2, 3] and set(table.columns) >= {"score", "steps", "duplicated"}
    meta = json.loads((tmp_path / "results/invmm/unet.csv").read_text().splitlines()[0].removeprefix("# provenance: "))
    assert meta["similarity"].startswith("pixel correlation") and meta["seconds_per_image"] > 0
    assert "sha256" in json.dumps(meta["weights_used"]) or "diffusion_pytorch_model" in json.dumps(meta["weights_used"])
    assert (tmp_path / "results/figures/invmm/unet.pdf").stat().st_size > 0
