# The config, checked once by memprint's loader (the same one the CLI uses) before any job runs, and every
# helper the rules share: the rule files hold rules only.
import os
import re
import sys

# The repo's memprint/ here (its torch-free modules only) and in every job's script, installed or not (conda).
sys.path.insert(0, workflow.basedir)
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [workflow.basedir, os.environ.get("PYTHONPATH")])))

from snakemake.exceptions import WorkflowError

from memprint import MemprintError
from memprint.config import read_yaml, validate
from memprint.code_version import code_version
from memprint.config_checks import baselines, fingerprint_plan, fingerprinting
from memprint import layout
from memprint.io import content_digest
from memprint.encoders import Encoder
from memprint.generators import generator
from memprint.scores import score
from memprint.transforms import TRAINING_SIDE, sides

try:
    for path in workflow.configfiles:  # Snakemake's YAML keeps the last of a key given twice: refuse it instead
        read_yaml(path)
    validate(config)
except MemprintError as err:
    raise WorkflowError(str(err)) from None

KINDS = {name: generator(name, spec) for name, spec in config["generators"].items()}
GENERATORS = list(KINDS)
ENCODERS = list(config["encoders"])
TRAINED_ENCODERS = [e for e, s in config["encoders"].items() if Encoder.kinds[s["kind"]].trained_here]
HUB_ENCODERS = [e for e, s in config["encoders"].items() if s.get("weights") == "pretrained"]
HUB_GENERATORS = [g for g, k in KINDS.items() if k.sharded and k.weights_source().origin == "hub"]
DOWNLOADS = {path: what for kind in KINDS.values() for path, what in kind.downloads().items()}
ZOO = config.get("zoo", {"models": {}, "epochs": [], "seeds": []})
ZOO_MODELS = list(ZOO["models"])
SCORES = config["scores"]
SCORE_KINDS = {name: score(name, spec) for name, spec in SCORES.items()}
MAIN_SCORE = next(name for name, kind in SCORE_KINDS.items() if kind.copies)  # the copy finder's search
CLAIM_SCORES = [name for name, kind in SCORE_KINDS.items() if kind.claims]
ARCHITECTURES = {g: k.architecture for g, k in KINDS.items()}
RUNS = {g: k.run for g, k in KINDS.items()}
CLASSIFIERS = list(config["fingerprint"]["classifiers"]) if "fingerprint" in config else []
FINGERPRINTED = fingerprinting(config)
FINGERPRINT_GENERATORS, FINGERPRINT_LEFT_OUT = fingerprint_plan(config)  # too few samples: left out, said why
INVMM = config.get("invmm")
INVMM_GENERATORS = INVMM["generators"] if INVMM else []
COPIES_VALIDATION = config["copies"].get("validation")
COPY_TRANSFORMS = config["copies"]["transforms"]  # identity first; each other one embeds Q and P once more
TRAINING_EDITS = config["copies"]["training_transforms"]  # each embeds T once more
COPY_MATCHING = COPY_TRANSFORMS + [TRAINING_SIDE + t for t in TRAINING_EDITS]
EXTRA_TRANSFORMS = list(dict.fromkeys([t for t in COPY_TRANSFORMS if t != "identity"] + TRAINING_EDITS))
TRAIN_SHARDS = config["runtime"]["train_shards"]  # T's embedding jobs, gathered into one file
CLAIMS = config.get("claims")  # optional: the claims table only when configured
PUBLISH = CLAIMS["publish"] if CLAIMS is not None else None
FIGURE_FORMATS = ["png", "pdf"]
FIGURES = ["scores", "ct_curves", "copy_rates", "copy_kinds", "copied_pairs"]
FIGURES += ["curve_similarity"] if len(GENERATORS) > 1 else []  # one curve has nothing to be compared with
PRECISION = config["runtime"]["precision"]  # changes numbers: a param of every rule that runs a network
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
    classifier=_alternatives(CLASSIFIERS),


def code_version_of(script):
    """The hash of a workflow script and the memprint code it runs: a param, so an edit reruns its jobs."""
    return code_version(os.path.join(workflow.basedir, "workflow_scripts", script), workflow.basedir)


def canonical(value):
    """Params with keys sorted: Snakemake compares params by repr, and key order in YAML must not rerun jobs."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    return value


def scores_param():
    """Every score's spec (keys sorted), in the config's order, which the outputs follow."""
    return {name: canonical(spec) for name, spec in SCORES.items()}


def spec_of(generator_name):
    return canonical(KINDS[generator_name].spec)


def data_contents():
    """What the data step's folders and files hold (a digest): changed images rerun it and what depends on them."""
    data = config["data"]
    paths = [data["folder"].get(k) for k in ("train", "test")] if data["source"] == "folder" else []
    cifar = data.get("cifar10") or {}
    paths += [cifar.get(k) for k in ("train_npz", "test_npz")] if data["source"] == "cifar10" else []
    original = cifar.get("original") or {} if data["source"] == "cifar10" else {}
    paths += [original.get(k) for k in ("manifest", "exact_train_npz", "exact_test_npz")]
    return content_digest([p for p in paths if p])


def generator_contents(generator_name):
    """What the files a generator's config names hold (a folder of samples changed in place reruns it)."""
    kind = KINDS[generator_name]
    return content_digest([kind.spec[key] for key in kind.files if kind.spec.get(key)])


def per_score(path_of, *args):
    """score name -> its file, for every configured score (``path_of``: a ``memprint.layout`` function)."""
    return {name: path_of(name, *args) for name in SCORES}


# ------------------------------------------------------------------------------------------------ generators


imageset = layout.imageset


def generator_inputs(wildcards):
    """T (every kind: its images are checked against T's shape), and what the kind needs: its shards, the set it
    alters, the segmenter, the files its config names."""
    kind = KINDS[wildcards.generator]
    inputs = {"train": imageset("train")}  # every generator's images are checked against T's shape
    if kind.sharded:
        inputs["shards"] = [f"results/samples/{kind.name}/shard{k}.h5" for k in range(kind.spec["shards"])]
    if "source" in kind.needs:
        inputs["source"] = imageset(kind.spec["source"])
    if "segmenter" in kind.needs:
        inputs["segmenter"] = "results/segmenter/segmenter.pt"
    inputs |= {f"file_{key}": kind.spec[key] for key in kind.files if kind.spec.get(key)}
    return inputs | kind.input_files()


def generator_weights(wildcards):
    """A sharded kind's weights: a configured file or folder, the fetched hub model, or a zoo checkpoint."""
    source = KINDS[wildcards.generator].weights_source()
    if source.origin == "file":
        return source.value
    if source.origin == "hub":
        return f"results/downloads/diffusion/{wildcards.generator}"
    return "results/zoo/{model}/seed{train_seed}/epoch{epoch}.pt".format(**source.value)


def zoo_training_summaries():
    return {f"{m}_s{s}": f"results/zoo/{m}/seed{s}/training.json" for m in ZOO_MODELS for s in ZOO["seeds"]}


# -------------------------------------------------------------------------------------------------- encoders


def encoder_spec(wildcards):
    return canonical(config["encoders"][wildcards.encoder])


def encoder_weights(wildcards):
    """The weights file an encoder's embeddings need: made by a rule, given by the user, or none (random)."""
    spec = config["encoders"][wildcards.encoder]
    if Encoder.kinds[spec["kind"]].trained_here or spec.get("weights") == "pretrained":
        return f"results/encoders/{wildcards.encoder}/weights.pt"
    if spec["weights"] == "random":
        return []
    return spec["weights"]


def embeddings(encoder, names):
    return {name: layout.embedding(encoder, name) for name in names}


def transformed_inputs(encoder, name):
    """matching label -> the embedding of image set ``name`` under its query-side edit (the identity and every
    training-side label: the plain embedding)."""
    edits = {label: sides(label)[0] for label in COPY_MATCHING}
    return {
        label: (
            layout.embedding(encoder, name) if edit == "identity" else layout.transformed_embedding(encoder, edit, name)
        )
        for label, edit in edits.items()
    }


def training_edit_inputs(encoder):
    """The training set's embedding under each training-side edit, in COPY_MATCHING's order."""
    return [layout.transformed_embedding(encoder, t, "train") for t in TRAINING_EDITS]


# ----------------------------------------------------------------------------------------------- fingerprint


def fingerprint_protocol():
    return canonical({key: config["fingerprint"][key] for key in ("target_size", "reference_sizes", "splits", "seed")})


def fingerprint_curve_files(encoder):
    """Score -> every fingerprinted generator's fingerprint curve file (one encoder)."""
    return {s: [layout.fingerprint_curves(s, encoder, g) for g in FINGERPRINT_GENERATORS] for s in SCORES}


def statistics_inputs(wildcards):
    """FID features: the FID InceptionV3 file, or an encoder's embeddings of P and every generator."""
    source = config["fingerprint"]["statistics_features"]
    if source == "inception":
        return {"inception": config["fid"]["inception"]}
    return {"embeddings": list(embeddings(source, ["test"] + FINGERPRINT_GENERATORS).values())}


def classifier_weights(wildcards):
    """torchvision classifiers: the fetched pretrained weights, a given file, or none (random init; the CNN)."""
    spec = config["fingerprint"]["classifiers"][wildcards.classifier]
    weights = spec["weights"] if spec["kind"] == "torchvision" else "random"
    if weights == "pretrained":
        return f"results/downloads/classifiers/{wildcards.classifier}.pt"
    return [] if weights == "random" else weights


FINGERPRINT_OUTPUTS = (
    ["results/fingerprint/table1.md"]
    + expand("results/figures/fingerprint_{figure}.{ext}", figure=["confusion", "open_set"], ext=FIGURE_FORMATS)
    if FINGERPRINTED
    else []
)


# ---------------------------------------------------------------------------------------------------- claims


def claims_curve_files(encoder):
    """Score (those the claims apply to) -> generator -> its curve and bootstrap replicate files (one encoder)."""
    return {
        s: {
            g: {"curve": layout.score_curve(s, encoder, g), "replicates": layout.score_replicates(s, encoder, g)}
            for g in GENERATORS
        }
        for s in CLAIM_SCORES
    }


def all_files(nested):
    if isinstance(nested, dict):
        return [path for value in nested.values() for path in all_files(value)]
    return list(nested) if isinstance(nested, list) else [nested]


def published_files():
    """File name in claims.publish -> the run's output it copies."""
    files = {}
    for e in ENCODERS:
        files |= {f"claims_{e}.md": f"results/claims/{e}.md", f"claims_{e}.csv": f"results/claims/{e}.csv"}
        for figure in FIGURES:
            files[f"{figure}_{e}.png"] = f"results/figures/{e}/{figure}.png"
        files |= {f"curve_{MAIN_SCORE}_{e}_{g}.csv": layout.score_curve(MAIN_SCORE, e, g) for g in GENERATORS}
        files[f"copy_rates_{e}.csv"] = f"results/copies/{e}/rates.csv"
        files[f"copy_kinds_{e}.csv"] = f"results/copies/{e}/kinds.csv"
        if COPIES_VALIDATION:
            files[f"copies_validation_{e}.png"] = f"results/figures/{e}/copies_validation.png"
            files[f"copies_validation_{e}.csv"] = f"results/copies/{e}/validation.csv"
    files |= {"sample_grid.png": "results/figures/sample_grid.png", "generators.csv": "results/generators/summary.csv"}
    for g in INVMM_GENERATORS:
        files |= {
            f"invmm_{g}.csv": f"results/invmm/{g}.csv",
            f"invmm_{g}.png": f"results/figures/invmm/{g}.png",
            f"invmm_scores_{g}.png": f"results/figures/invmm/{g}_scores.png",
            f"invmm_side_by_side_{g}.md": f"results/invmm/{g}.side_by_side.md",
            f"invmm_side_by_side_{g}.csv": f"results/invmm/{g}.side_by_side.csv",
        }
    if FINGERPRINTED:
        files |= {
            "table1.md": "results/fingerprint/table1.md",
            "fingerprint_confusion.png": "results/figures/fingerprint_confusion.png",
        }
    return files


def copy_tables():
    """Markdown summary in claims.publish -> [its kind, the copy finder's CSV it reads]."""
    tables = {f"copy_rates_{e}.md": ["copy_rates", f"results/copies/{e}/rates.csv"] for e in ENCODERS}
    if COPIES_VALIDATION:
        tables |= {
            f"copies_validation_{e}.md": ["copies_validation", f"results/copies/{e}/validation.csv"] for e in ENCODERS
        }
    return tables


def curve_tables():
    """Markdown table in claims.publish -> the score curve files it shows (generator -> file)."""
    return {f"{s}_table_{e}.md": {g: layout.score_curve(s, e, g) for g in GENERATORS} for e in ENCODERS for s in SCORES}


# ----------------------------------------------------------------------------------------------------- InvMM


def invmm_params():
    """What changes a score: the scored images, the similarity (with its encoder's spec) and the settings."""
    similarity = dict(INVMM["similarity"])
    if similarity["kind"] == "encoder":
        similarity["encoder_spec"] = config["encoders"][similarity["encoder"]]
    return canonical({**{k: v for k, v in INVMM.items() if k != "generators"}, "similarity": similarity})


def invmm_inputs(wildcards):
    """The diffusion model's weights, the scored image set, and the similarity's weights."""
    inputs = {"weights": generator_weights(wildcards), "images": imageset(INVMM["images"])}
    similarity = INVMM["similarity"]
    if similarity["kind"] == "sscd":
        inputs["sscd"] = similarity["file"]
    if similarity["kind"] == "encoder":
        encoder = similarity["encoder"]
        inputs["encoder_weights"] = encoder_weights(type("Wildcards", (), {"encoder": encoder}))
    return inputs
