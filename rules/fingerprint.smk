localrules:
    fetch_classifier_weights,


rule fetch_classifier_weights:
    """Download a torchvision classifier's pretrained weights on the login node (compute nodes are often offline)."""
    output:
        "results/downloads/classifiers/{classifier}.pt",
    log:
        "logs/fetch_classifier_weights/{classifier}.log",
    benchmark:
        "results/benchmarks/fetch_classifier_weights/{classifier}.tsv"
    conda:
        CONDA_ENV
    params:
        code=code_version_of("fetch_classifier_weights.py"),
        spec=lambda wc: canonical(config["fingerprint"]["classifiers"][wc.classifier]),
    script:
        "../workflow_scripts/fetch_classifier_weights.py"


rule fingerprint_curve:
    """C_T-layer curves of one generator's fingerprint protocol sets (targets and references of every split)
    under every C_T setting. A generator whose sets cannot be scored is left out with the reason in the file:
    the fingerprint is optional and never fails a C_T curve."""
    input:
        references=per_score(layout.score_reference, "{encoder}").values(),
        train=layout.embedding("{encoder}", "train"),
        test=layout.embedding("{encoder}", "test"),
        generated=layout.embedding("{encoder}", "{generator}"),
    output:
        per_score(layout.fingerprint_curves, "{encoder}", "{generator}").values(),
    log:
        "logs/fingerprint_curve/{encoder}/{generator}.log",
    benchmark:
        "results/benchmarks/fingerprint_curve/{encoder}/{generator}.tsv"
    wildcard_constraints:
        generator=_alternatives(FINGERPRINT_GENERATORS),
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        code=code_version_of("fingerprint_curve.py"),
        scores=scores_param(),
        encoder=lambda wc: wc.encoder,
        generator=lambda wc: wc.generator,
        architecture=lambda wc: ARCHITECTURES[wc.generator],
        run=lambda wc: RUNS[wc.generator],
        protocol=fingerprint_protocol(),
    script:
        "../workflow_scripts/fingerprint_curve.py"


rule fingerprint_statistics:
    """The statistics baseline: pixel mean and std per channel and FID to P of every protocol set."""
    input:
        unpack(statistics_inputs),
        imagesets=[imageset(g) for g in FINGERPRINT_GENERATORS],
        test=imageset("test"),
    output:
        "results/fingerprint/statistics.csv",
    log:
        "logs/fingerprint_statistics.log",
    benchmark:
        "results/benchmarks/fingerprint_statistics.tsv"
    conda:
        CONDA_ENV
    threads: 2 if config["fingerprint"]["statistics_features"] == "inception" else 1
    resources:
        gpu=1 if config["fingerprint"]["statistics_features"] == "inception" else 0,
        mem_mb=8000,
        runtime=60,
    params:
        code=code_version_of("fingerprint_statistics.py"),
        imagesets={g: imageset(g) for g in FINGERPRINT_GENERATORS},
        embeddings=lambda wc: (
            embeddings(config["fingerprint"]["statistics_features"], ["test"] + FINGERPRINT_GENERATORS)
            if config["fingerprint"]["statistics_features"] != "inception"
            else {}
        ),
        architectures=ARCHITECTURES,
        runs=RUNS,
        protocol=fingerprint_protocol(),
        features=config["fingerprint"]["statistics_features"],
    script:
        "../workflow_scripts/fingerprint_statistics.py"


rule fingerprint_classifier:
    """A classifier baseline: trained on reference images labelled by architecture, majority vote per target."""
    input:
        imagesets=[imageset(g) for g in FINGERPRINT_GENERATORS],
        weights=classifier_weights,
    output:
        "results/fingerprint/classifiers/{classifier}.csv",
    log:
        "logs/fingerprint_classifier/{classifier}.log",
    benchmark:
        "results/benchmarks/fingerprint_classifier/{classifier}.tsv"
    priority: 1  # long, and only the last table waits for it
    conda:
        CONDA_ENV
    threads: 1  # as train_encoder: the small CNN gains nothing from a second thread
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=720,
    params:
        code=code_version_of("fingerprint_classifier.py"),
        name=lambda wc: wc.classifier,
        imagesets={g: imageset(g) for g in FINGERPRINT_GENERATORS},
        spec=lambda wc: canonical(config["fingerprint"]["classifiers"][wc.classifier]),
        architectures=ARCHITECTURES,
        runs=RUNS,
        protocol=fingerprint_protocol(),
        precision=PRECISION,
    script:
        "../workflow_scripts/fingerprint_classifier.py"


rule fingerprint_table:
    """Table 1 and beyond: accuracy with 95% intervals, leave-one-model-out, open-set ROC, time per method."""
    input:
        curves=[layout.fingerprint_curves(s, e, g) for s in SCORES for e in ENCODERS for g in FINGERPRINT_GENERATORS],
        statistics="results/fingerprint/statistics.csv",
        classifiers=expand("results/fingerprint/classifiers/{classifier}.csv", classifier=CLASSIFIERS),
        embeddings=[
            path for e in ENCODERS for path in embeddings(e, ["train", "test"] + FINGERPRINT_GENERATORS).values()
        ],
        references=[layout.score_reference(s, e) for s in SCORES for e in ENCODERS],
    output:
        matches="results/fingerprint/matches.csv",
        table=report(
            "results/fingerprint/table1.csv", caption="../report/fingerprint_table.rst", category="Fingerprint"
        ),
        markdown="results/fingerprint/table1.md",
        open_set="results/fingerprint/open_set.csv",
    log:
        "logs/fingerprint_table.log",
    benchmark:
        "results/benchmarks/fingerprint_table.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        code=code_version_of("fingerprint_table.py"),
        seed=config["fingerprint"]["seed"],
        left_out=FINGERPRINT_LEFT_OUT,
        embeddings={e: embeddings(e, ["train", "test"] + FINGERPRINT_GENERATORS) for e in ENCODERS},
        references={s: {e: layout.score_reference(s, e) for e in ENCODERS} for s in SCORES},
    script:
        "../workflow_scripts/fingerprint_table.py"


rule figure_fingerprint_confusion:
    """Confusion matrices of fingerprint matching, one panel per method."""
    input:
        "results/fingerprint/matches.csv",
    output:
        png=report(
            "results/figures/fingerprint_confusion.png",
            caption="../report/fingerprint_confusion.rst",
            category="Fingerprint",
        ),
        pdf="results/figures/fingerprint_confusion.pdf",
    log:
        "logs/figure_fingerprint_confusion.log",
    benchmark:
        "results/benchmarks/figure_fingerprint_confusion.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_version_of("figure_fingerprint_confusion.py"),
    script:
        "../workflow_scripts/figure_fingerprint_confusion.py"


rule figure_fingerprint_open_set:
    """ROC of answering "unknown generator" by a threshold on the best match score."""
    input:
        "results/fingerprint/open_set.csv",
    output:
        png=report(
            "results/figures/fingerprint_open_set.png",
            caption="../report/fingerprint_open_set.rst",
            category="Fingerprint",
        ),
        pdf="results/figures/fingerprint_open_set.pdf",
    log:
        "logs/figure_fingerprint_open_set.log",
    benchmark:
        "results/benchmarks/figure_fingerprint_open_set.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_version_of("figure_fingerprint_open_set.py"),
    script:
        "../workflow_scripts/figure_fingerprint_open_set.py"
