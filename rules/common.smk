# Config validation (before any job runs) and the helpers the rules share.
import re
import sys
from pathlib import Path

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
                        "architecture": label, "samples": zoo["samples"], "shards": zoo["shards"],
                        "seed": zoo["sample_seed"], **({"scheduler": scheduler, "steps": steps} if scheduler else {})}
    return entries


if "zoo" in config:
    _zoo = zoo_generators(config["zoo"])
    _clash = set(config["generators"]) & set(_zoo)
    if _clash:
        raise WorkflowError(f"config error at generators: {sorted(_clash)} also name zoo generators; rename them")
    config["generators"].update(_zoo)
for _name, _spec in config["generators"].items():
    for _key in ("path", "checkpoint", "file"):
        if _key in _spec:
            _require_file(_spec[_key], f"generators.{_name}.{_key}")

GENERATORS = list(config["generators"])
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
