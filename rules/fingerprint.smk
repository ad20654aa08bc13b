def architecture(generator):
    spec = config["generators"][generator]
    return spec.get("architecture", spec["kind"])


rule fingerprint_curves:
    """C_T-layer curves of seeded reference/target halves of one generator's samples."""
    input:
        reference="results/ct/{encoder}/reference.h5",
        train="results/embeddings/{encoder}/train.h5",
        generated="results/embeddings/{encoder}/{generator}.h5",
    output:
        "results/fingerprint/{encoder}/curves/{generator}.csv",
    params:
        architecture=lambda wc: architecture(wc.generator),
        splits=config["fingerprint"]["splits"],
        seed=config["fingerprint"]["seed"],
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


rule fingerprint_summary:
    """Match every target curve to its nearest reference curve (L2, cosine, combined); accuracy per method."""
    input:
        curves=expand("results/fingerprint/{encoder}/curves/{generator}.csv", encoder=ENCODERS, generator=GENERATORS),
    output:
        matches="results/fingerprint/matches.csv",
        summary=report("results/fingerprint/summary.csv", caption="../report/fingerprint_summary.rst",
                       category="Fingerprint"),
    log:
        "logs/fingerprint_summary.log",
    benchmark:
        "results/benchmarks/fingerprint_summary.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fingerprint_summary.py"
