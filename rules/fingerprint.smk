def architecture(generator):
    spec = config["generators"][generator]
    return spec.get("architecture", spec["kind"])


def training_run(generator):
    """Checkpoints of one training run share it: leave-one-model-out removes the whole run."""
    return config["generators"][generator].get("run", generator)


ARCHITECTURES = {g: architecture(g) for g in GENERATORS}
RUNS = {g: training_run(g) for g in GENERATORS}
CLASSIFIERS = list(config["fingerprint"]["classifiers"])
# fingerprinting needs two architectures to tell apart; a config scoring one model (InvMM's) leaves it out
FINGERPRINT_OUTPUTS = ["results/fingerprint/table1.md"] + expand(
    "results/figures/fingerprint_{figure}.{ext}", figure=["confusion", "open_set"], ext=FIGURE_FORMATS
) if len(set(ARCHITECTURES.values())) >= 2 else []


def fingerprint_protocol():
    return canonical({key: config["fingerprint"][key] for key in ("target_size", "reference_sizes", "splits", "seed")})


def statistics_inputs(wildcards):
    """FID features: the FID InceptionV3 file, or an encoder's embeddings of P and every generator."""
    source = config["fingerprint"]["statistics_features"]
    if source == "inception":
        return {"inception": config["fid"]["inception"]}
    return {"embeddings": expand("results/embeddings/{encoder}/{imageset}.h5", encoder=source,
                                 imageset=["test"] + GENERATORS)}


def classifier_weights(wildcards):
    """torchvision classifiers: the fetched pretrained weights, a given file, or none (random init; the CNN)."""
    spec = config["fingerprint"]["classifiers"][wildcards.classifier]
    weights = spec.get("weights", "pretrained") if spec["kind"] == "torchvision" else "random"
    if weights == "pretrained":
        return f"results/downloads/classifiers/{wildcards.classifier}.pt"
    return [] if weights == "random" else weights


localrules:
    fetch_classifier_weights,


rule fetch_classifier_weights:
    """Download a torchvision classifier's pretrained weights on the login node (compute nodes are often offline)."""
    output:
        "results/downloads/classifiers/{classifier}.pt",
    params:
        spec=lambda wc: canonical(config["fingerprint"]["classifiers"][wc.classifier]),
    log:
        "logs/fetch_classifier_weights/{classifier}.log",
    benchmark:
        "results/benchmarks/fetch_classifier_weights/{classifier}.tsv"
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fetch_classifier_weights.py"


rule fingerprint_curves:
    """C_T-layer curves of the protocol's target and reference sets of one generator, every split, under ``ct:``
    (Table 1) and every ``ct_variants`` setting (the claims table)."""
    input:
        references=["results/ct/{encoder}/reference.h5"]
        + expand("results/ct_variants/{variant}/{{encoder}}/reference.h5", variant=CT_VARIANTS),
        train="results/embeddings/{encoder}/train.h5",
        generated="results/embeddings/{encoder}/{generator}.h5",
    output:
        curves=["results/fingerprint/{encoder}/curves/{generator}.csv"]
        + expand("results/fingerprint_variants/{variant}/{{encoder}}/curves/{{generator}}.csv", variant=CT_VARIANTS),
    params:
        architecture=lambda wc: ARCHITECTURES[wc.generator],
        run=lambda wc: RUNS[wc.generator],
        protocol=fingerprint_protocol(),
    log:
        "logs/fingerprint_curves/{encoder}/{generator}.log",
    benchmark:
        "results/benchmarks/fingerprint_curves/{encoder}/{generator}.tsv"
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fingerprint_curves.py"


rule fingerprint_statistics:
    """The statistics baseline: pixel mean and std per channel and FID to P of every protocol set."""
    input:
        unpack(statistics_inputs),
        imagesets=expand("results/imagesets/{generator}.h5", generator=GENERATORS),
        test="results/imagesets/test.h5",
    output:
        "results/fingerprint/statistics.csv",
    params:
        architectures=ARCHITECTURES,
        runs=RUNS,
        protocol=fingerprint_protocol(),
        features=config["fingerprint"]["statistics_features"],
    log:
        "logs/fingerprint_statistics.log",
    benchmark:
        "results/benchmarks/fingerprint_statistics.tsv"
    threads: 2
    resources:
        gpu=1 if config["fingerprint"]["statistics_features"] == "inception" else 0,
        mem_mb=8000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fingerprint_statistics.py"


rule fingerprint_classifier:
    """A classifier baseline: trained on reference images labelled by architecture, majority vote per target."""
    input:
        imagesets=expand("results/imagesets/{generator}.h5", generator=GENERATORS),
        weights=classifier_weights,
    output:
        "results/fingerprint/classifiers/{classifier}.csv",
    params:
        spec=lambda wc: canonical(config["fingerprint"]["classifiers"][wc.classifier]),
        architectures=ARCHITECTURES,
        runs=RUNS,
        protocol=fingerprint_protocol(),
    log:
        "logs/fingerprint_classifier/{classifier}.log",
    benchmark:
        "results/benchmarks/fingerprint_classifier/{classifier}.tsv"
    threads: 2
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=720,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fingerprint_classifier.py"


rule fingerprint_table:
    """Table 1 and beyond: accuracy with 95% intervals, leave-one-model-out, open-set ROC, time per method."""
    input:
        curves=expand("results/fingerprint/{encoder}/curves/{generator}.csv", encoder=ENCODERS, generator=GENERATORS),
        statistics="results/fingerprint/statistics.csv",
        classifiers=expand("results/fingerprint/classifiers/{classifier}.csv", classifier=CLASSIFIERS),
        embed_benchmarks=expand("results/benchmarks/embed/{encoder}/{imageset}.tsv", encoder=ENCODERS,
                                imageset=["train", "test"] + GENERATORS),
        reference_benchmarks=expand("results/benchmarks/ct_reference/{encoder}.tsv", encoder=ENCODERS),
    output:
        matches="results/fingerprint/matches.csv",
        table=report("results/fingerprint/table1.csv", caption="../report/fingerprint_table.rst",
                     category="Fingerprint"),
        markdown="results/fingerprint/table1.md",
        open_set="results/fingerprint/open_set.csv",
    params:
        seed=config["fingerprint"]["seed"],
    log:
        "logs/fingerprint_table.log",
    benchmark:
        "results/benchmarks/fingerprint_table.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fingerprint_table.py"


rule figure_fingerprint_confusion:
    """Confusion matrices of fingerprint matching, one panel per method."""
    input:
        "results/fingerprint/matches.csv",
    output:
        png=report("results/figures/fingerprint_confusion.png", caption="../report/fingerprint_confusion.rst",
                   category="Fingerprint"),
        pdf="results/figures/fingerprint_confusion.pdf",
    log:
        "logs/figure_fingerprint_confusion.log",
    benchmark:
        "results/benchmarks/figure_fingerprint_confusion.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/figure_fingerprint_confusion.py"


rule figure_fingerprint_open_set:
    """ROC of answering "unknown generator" by a threshold on the best match score."""
    input:
        "results/fingerprint/open_set.csv",
    output:
        png=report("results/figures/fingerprint_open_set.png", caption="../report/fingerprint_open_set.rst",
                   category="Fingerprint"),
        pdf="results/figures/fingerprint_open_set.pdf",
    log:
        "logs/figure_fingerprint_open_set.log",
    benchmark:
        "results/benchmarks/figure_fingerprint_open_set.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/figure_fingerprint_open_set.py"
