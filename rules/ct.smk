rule ct_reference:
    """Per C_T setting (``ct:`` and every ``ct_variants`` entry) and layer: KMeans cells fit on T, P's cells and
    nearest-training distances, shared by all generators; T and P are read once."""
    input:
        train="results/embeddings/{encoder}/train.h5",
        test="results/embeddings/{encoder}/test.h5",
    output:
        ct_files("{encoder}", "reference.h5"),
    log:
        "logs/ct_reference/{encoder}.log",
    benchmark:
        "results/benchmarks/ct_reference/{encoder}.tsv"
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        code=code_version_of("ct_reference.py"),
        settings=canonical(CT_SETTINGS),
        outputs=lambda wc: {s: ct_path(s, wc.encoder, "reference.h5") for s in CT_SETTINGS},
    script:
        "../workflow_scripts/ct_reference.py"


rule ct_curve:
    """One generator's C_T-layer curve with 95% bootstrap intervals under every C_T setting and its per-sample
    copies from the same nearest-neighbour search: one job, the embeddings read once."""
    input:
        references=ct_files("{encoder}", "reference.h5"),
        train="results/embeddings/{encoder}/train.h5",
        generated="results/embeddings/{encoder}/{generator}.h5",
    output:
        curves=ct_files("{encoder}", "{generator}.csv"),
        replicates=ct_files("{encoder}", "{generator}.bootstrap.h5"),
        copies="results/copies/{encoder}/{generator}.csv",
    log:
        "logs/ct_curve/{encoder}/{generator}.log",
    benchmark:
        "results/benchmarks/ct_curve/{encoder}/{generator}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        code=code_version_of("ct_curve.py"),
        intervals=canonical(config["intervals"]),
        copy_threshold=config["copies"]["threshold"],
        generator=lambda wc: wc.generator,
    script:
        "../workflow_scripts/ct_curve.py"
