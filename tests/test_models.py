"""Model generators: diffusers UNets (DDPM/DDIM/PNDM), class-path and TorchScript networks, existing samples,
the trainable zoo, sharding and FID. All on CPU with tiny models; the MNIST generators when the assets exist."""

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from memprint import MemprintError, fid, zoo
from memprint.datasets import digits_split
from memprint.generators import gather_shards, generator
from memprint.generators.diffusion import load_unet, make_scheduler
from memprint.generators.networks import load_module, sample_module
from memprint.generators.shards import image_generators
from memprint.io import read_imageset
from memprint.stages.generators import make_generator_samples
from tests.conftest import ASSETS, TINY_CONFIG, snakemake

CPU = torch.device("cpu")
MNIST = ASSETS / "mnist_generators"
MNIST_GAN = {
    "kind": "module",
    "class_path": "memprint.architectures.MLPGenerator",
    "checkpoint": str(MNIST / "csinva_mnist_gan_mlp_G--300.ckpt"),
    "latent_shape": [64],
    "output_range": [-1, 1],
    "output_shape": [1, 28, 28],
    "samples": 12,
    "seed": 0,
}
MNIST_VAE = {
    "kind": "module",
    "class_path": "memprint.architectures.FCVAE",
    "checkpoint": str(MNIST / "csinva_mnist_vae_epoch_25.pth"),
    "method": "decode",
    "latent_shape": [20],
    "output_range": [0, 1],
    "output_shape": [1, 28, 28],
    "samples": 12,
    "seed": 0,
}
needs_mnist = pytest.mark.skipif(not MNIST.is_dir(), reason=f"MNIST generator assets not at {MNIST}")


@pytest.fixture(scope="module")
def unet_folder(tmp_path_factory):
    """A tiny randomly initialised UNet2DModel saved the way diffusers saves models."""
    from diffusers import UNet2DModel

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("unet")
    UNet2DModel(
        sample_size=8,
        in_channels=3,
        out_channels=3,
        layers_per_block=1,
        block_out_channels=(8, 16),
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
        norm_num_groups=4,
    ).save_pretrained(folder)
    return folder


@pytest.fixture(autouse=True)
def float32_arithmetic():
    """Batching leaves samples unchanged up to rounding in float32; bf16 matrix units (AMX) round differently per
    batch shape, which tests/test_precision.py measures, so the comparisons here run in float32 on every CPU."""
    from memprint.runtime import set_precision

    set_precision("float32")
    yield
    set_precision("auto")


def assert_same_up_to_rounding(a, b):
    difference = np.abs(a.astype(int) - b.astype(int))
    assert difference.max() <= 1 and (difference == 0).mean() > 0.99


def _sharded(name, spec, shards, batch_size):
    spec = {**spec, "shards": shards}
    return gather_shards([generator(name, spec).sample_shard(k, CPU, batch_size) for k in range(shards)])


@pytest.mark.parametrize("scheduler,steps", [("ddpm", 30), ("ddim", 8), ("pndm", 8)])
def test_diffusion_from_local_folder_is_seeded_and_shard_independent(unet_folder, scheduler, steps):
    spec = {
        "kind": "diffusion",
        "model": str(unet_folder),
        "scheduler": scheduler,
        "steps": steps,
        "samples": 6,
        "seed": 4,
    }
    whole = _sharded("unet", spec, 1, 6)
    assert whole.images.shape == (6, 8, 8, 3) and whole.images.dtype == np.uint8
    assert whole.images.std() > 0 and len({img.tobytes() for img in whole.images}) == 6
    # same noise per image; convolution kernels may round differently by batch size: at most one grey level
    assert_same_up_to_rounding(_sharded("unet", spec, 3, 4).images, whole.images)
    assert not np.array_equal(_sharded("unet", {**spec, "seed": 5}, 1, 6).images, whole.images)
    assert "diffusion_pytorch_model" in str(whole.attrs["weights_used"])


def test_ddim_with_eta_zero_is_the_deterministic_sampler(unet_folder):
    """DDIM at eta 0 depends only on the initial noise; PNDM too; DDPM's ancestral noise changes with the seed."""
    spec = {"kind": "diffusion", "model": str(unet_folder), "scheduler": "ddim", "steps": 5, "samples": 2, "seed": 0}
    a = generator("u", spec).sample_shard(0, CPU, 2).images
    b = generator("u", {**spec, "eta": 1.0}).sample_shard(0, CPU, 2).images
    assert not np.array_equal(a, b)


def test_diffusion_errors(unet_folder, tmp_path):
    with pytest.raises(MemprintError, match="could not be loaded"):
        load_unet(str(tmp_path))
    with pytest.raises(MemprintError, match="scheduler 'euler' is unknown"):
        make_scheduler("euler", 10, None)
    with pytest.raises(MemprintError, match="training timesteps"):
        make_scheduler("ddim", 5000, None)


@needs_mnist
@pytest.mark.parametrize("spec", [MNIST_GAN, MNIST_VAE], ids=["gan", "vae"])
def test_mnist_generators_run_through_the_class_path_unchanged(spec):
    samples = _sharded("mnist", spec, 2, 5)
    assert samples.images.shape == (12, 28, 28, 1)
    assert_same_up_to_rounding(samples.images, _sharded("mnist", spec, 1, 12).images)
    # MNIST digits: mostly dark background, some bright strokes
    assert 0.6 < (samples.images < 64).mean() < 0.95 and (samples.images > 192).mean() > 0.03
    assert samples.attrs["weights_used"]["weights_sha256"]


@needs_mnist
def test_module_errors_name_the_problem(tmp_path):
    with pytest.raises(MemprintError, match="does not fit"):
        load_module({**MNIST_GAN, "arguments": {"latent_dim": 32}}, MNIST_GAN["checkpoint"])
    with pytest.raises(MemprintError, match="could not be imported"):
        load_module({**MNIST_GAN, "class_path": "memprint.architectures.Nope"}, MNIST_GAN["checkpoint"])
    with pytest.raises(MemprintError, match="not found"):
        load_module(MNIST_GAN, str(tmp_path / "missing.pt"))
    with pytest.raises(MemprintError, match="output_shape"):
        sample_module(
            load_module(MNIST_GAN, MNIST_GAN["checkpoint"])[0],
            {**MNIST_GAN, "output_shape": None},
            image_generators(0, 0, 2),
            CPU,
            2,
        )


def test_torchscript_generator(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 3 * 4 * 4), torch.nn.Tanh(), torch.nn.Unflatten(1, (3, 4, 4)))
    torch.jit.save(torch.jit.script(net), tmp_path / "g.pt")
    spec = {"kind": "torchscript", "file": str(tmp_path / "g.pt"), "latent_shape": [8], "samples": 5, "seed": 0}
    samples = generator("ts", spec).sample_shard(0, CPU, 2)
    assert samples.images.shape == (5, 4, 4, 3)
    (tmp_path / "bad.pt").write_bytes(b"not torchscript")
    with pytest.raises(MemprintError, match="not a TorchScript file"):
        load_module(spec, str(tmp_path / "bad.pt"))


def test_existing_samples_npz_and_folders_that_fail_write_nothing(tmp_path, rng):
    np.savez(tmp_path / "s.npz", arr_0=rng.integers(0, 256, (7, 5, 5, 3), dtype=np.uint8))
    out = tmp_path / "out.h5"
    make_generator_samples("s", {"kind": "samples", "path": str(tmp_path / "s.npz"), "samples": 7}, str(out))
    assert read_imageset(out).images.shape == (7, 5, 5, 3)
    with pytest.raises(MemprintError, match="holds 7"):
        generator("s", {"kind": "samples", "path": str(tmp_path / "s.npz"), "samples": 8}).sample()
    folder = tmp_path / "folder"
    folder.mkdir()
    spec = {"kind": "samples", "path": str(folder)}
    for content, message in [(None, "no image files"), ("corrupt", "bad.png"), ("mixed", "big.png")]:
        if content == "corrupt":
            Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(folder / "a.png")
            (folder / "bad.png").write_bytes(b"corrupt")
        if content == "mixed":
            (folder / "bad.png").unlink()
            Image.fromarray(np.zeros((6, 6, 3), np.uint8)).save(folder / "big.png")
        with pytest.raises(MemprintError, match=message):
            make_generator_samples("f", spec, str(tmp_path / "f.h5"))
        assert not list(tmp_path.glob("f.h5*"))


@pytest.mark.parametrize("arch", zoo.ZOO_ARCHS)
def test_zoo_architecture_trains_checkpoints_and_samples(arch, tmp_path):
    images = digits_split(0.33, 0)[0].images[:128]
    spec = {"arch": arch, "width": 8, "latent_dim": 8, "batch_size": 32, "lr": 1e-3}
    paths = {}
    summary = zoo.train_zoo_model(
        spec,
        images,
        0,
        [1, 2],
        CPU,
        lambda epoch, payload: torch.save(payload, paths.setdefault(epoch, tmp_path / f"{epoch}.pt")),
    )
    assert sorted(paths) == [1, 2] and summary["train_seconds"] > 0 and np.isfinite(summary["final_model_loss"])
    first, last = (torch.load(paths[e], weights_only=True)["state_dict"] for e in (1, 2))
    assert any(not torch.equal(first[k], last[k]) for k in first)
    sample = {"kind": "zoo", "samples": 4, "seed": 0, "scheduler": "ddim", "steps": 4}
    images_out = generator("z", sample).sample_shard(0, CPU, 4, str(paths[2])).images
    assert images_out.shape == (4, 8, 8, 1)
    assert_same_up_to_rounding(images_out, generator("z", sample).sample_shard(0, CPU, 1, str(paths[2])).images)


def test_zoo_checkpoints_keep_the_moving_average_of_the_weights(tmp_path):
    """With ema, a checkpoint is the running average: after one step from the initial weights w0 to w1 it is
    decay * w0 + (1 - decay) * w1, not w1."""
    images = digits_split(0.33, 0)[0].images[:32]
    kept = {}
    spec = {"arch": "dcgan", "width": 8, "latent_dim": 8, "batch_size": 32, "lr": 1e-2, "flip": True}
    torch.manual_seed(0)
    initial = zoo.build_network("dcgan", 1, 8, 8, 8).state_dict()
    zoo.train_zoo_model(spec, images, 0, [1], CPU, lambda epoch, payload: kept.setdefault("plain", payload))
    zoo.train_zoo_model({**spec, "ema": 0.9}, images, 0, [1], CPU, lambda e, payload: kept.setdefault("ema", payload))
    assert kept["ema"]["ema"] == 0.9 and kept["plain"]["flip"] is True
    weight = "project.0.weight"
    expected = 0.9 * initial[weight] + 0.1 * kept["plain"]["state_dict"][weight]
    torch.testing.assert_close(kept["ema"]["state_dict"][weight], expected)


def test_zoo_rejects_sizes_it_cannot_build():
    with pytest.raises(MemprintError, match="power-of-two"):
        zoo.build_network("dcgan", 1, 28, 8, 8)


def test_frechet_distance_matches_the_gaussian_closed_form(rng):
    a, b = rng.normal(0, 1, (40000, 3)), rng.normal(1, 2, (40000, 3))
    # ||mu||^2 = 3, traces 3 + 12, 2 Tr((I * 4I)^(1/2)) = 12
    assert fid.frechet_distance(a, b) == pytest.approx(6.0, abs=0.1)
    assert fid.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.pipeline
def test_interrupted_shard_reruns_alone(tmp_path):
    """A node lost while sampling shard 1: the next run samples only shard 1, then gathers; shard 0 is kept."""
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["generators"] = {"kde_0.1": {"kind": "kde", "bandwidth": 0.1, "samples": 60, "seed": 1}}
    config["claims"] = {"baseline": "kde_0.1"}
    config["fingerprint"].update(target_size=25, reference_sizes=[30])
    config["zoo"] = {
        "models": {"vae": {"arch": "vae", "width": 8, "latent_dim": 8}},
        "epochs": [1],
        "samples": 60,
        "shards": 2,
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    shard0 = tmp_path / "results/samples/vae_s0_e1/shard0.h5"
    first = snakemake(tmp_path, path, "--cores", "2", str(shard0.relative_to(tmp_path)), "results/imagesets/kde_0.1.h5")
    assert first.returncode == 0, first.stderr[-3000:]
    kept = shard0.stat().st_mtime_ns
    targets = ("--cores", "2", "results/imagesets/vae_s0_e1.h5")
    plan = snakemake(tmp_path, path, *targets, "-n", "--quiet", "rules")
    jobs = dict(
        line.split() for line in plan.stdout.splitlines() if len(line.split()) == 2 and line.split()[1].isdigit()
    )
    assert jobs == {"sample_shard": "1", "sample_generator": "1", "total": "2"}, plan.stdout
    assert snakemake(tmp_path, path, *targets).returncode == 0
    assert shard0.stat().st_mtime_ns == kept
    gathered = read_imageset(tmp_path / "results/imagesets/vae_s0_e1.h5")
    assert gathered.images.shape[0] == 60 and gathered.attrs["shards"] == 2
