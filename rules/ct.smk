CT_VARIANTS = list(config["ct_variants"])


rule ct_reference:
    """Per layer: KMeans cells fit on T, P's cells and nearest-training distances (shared by all generators)."""
    input:
        train="results/embeddings/{encoder}/train.h5",
        test="results/embeddings/{encoder}/test.h5",
    output:
        "results/ct/{encoder}/reference.h5",
    params:
        ct=ct_settings(),
    log:
        "logs/ct_reference/{encoder}.log",
    benchmark:
        "results/benchmarks/ct_reference/{encoder}.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/ct_reference.py"


rule ct_reference_variant:
    """The C_T reference under one more C_T setting (``ct_variants``), e.g. the Bai et al. code's."""
    input:
        train="results/embeddings/{encoder}/train.h5",
        test="results/embeddings/{encoder}/test.h5",
    output:
        "results/ct_variants/{variant}/{encoder}/reference.h5",
    params:
        ct=lambda wc: canonical(config["ct_variants"][wc.variant]),
    log:
        "logs/ct_reference_variant/{variant}/{encoder}.log",
    benchmark:
        "results/benchmarks/ct_reference_variant/{variant}/{encoder}.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/ct_reference.py"


rule ct_curve:
    """One generator's C_T-layer curve with 95% bootstrap intervals under ``ct:`` and every ``ct_variants``
    setting (one job: the embeddings are read once), and its per-sample copies from the same search."""
    input:
        references=["results/ct/{encoder}/reference.h5"]
        + expand("results/ct_variants/{variant}/{{encoder}}/reference.h5", variant=CT_VARIANTS),
        train="results/embeddings/{encoder}/train.h5",
        generated="results/embeddings/{encoder}/{generator}.h5",
    output:
        curves=["results/ct/{encoder}/{generator}.csv"]
        + expand("results/ct_variants/{variant}/{{encoder}}/{{generator}}.csv", variant=CT_VARIANTS),
        replicates=["results/ct/{encoder}/{generator}.bootstrap.h5"]
        + expand("results/ct_variants/{variant}/{{encoder}}/{{generator}}.bootstrap.h5", variant=CT_VARIANTS),
        copies="results/copies/{encoder}/{generator}.csv",
    params:
        intervals=canonical(config["intervals"]),
        copy_threshold=config["copies"]["threshold"],
        generator=lambda wc: wc.generator,
    log:
        "logs/ct_curve/{encoder}/{generator}.log",
    benchmark:
        "results/benchmarks/ct_curve/{encoder}/{generator}.tsv"
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/ct_curve.py"
