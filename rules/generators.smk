rule sample_generator:
    """Fit one generator on T and draw its samples."""
    input:
        train="results/imagesets/train.h5",
    output:
        "results/imagesets/{generator}.h5",
    params:
        spec=lambda wc: canonical(config["generators"][wc.generator]),
    log:
        "logs/sample_generator/{generator}.log",
    benchmark:
        "results/benchmarks/sample_generator/{generator}.tsv"
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/sample_generator.py"
