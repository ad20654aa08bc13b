rule embed:
    """Every layer's embedding of one image set, all layers in one forward pass per batch."""
    input:
        imageset="results/imagesets/{imageset}.h5",
        weights=encoder_weights,
    output:
        "results/embeddings/{encoder}/{imageset}.h5",
    log:
        "logs/embed/{encoder}/{imageset}.log",
    benchmark:
        "results/benchmarks/embed/{encoder}/{imageset}.tsv"
    conda:
        CONDA_ENV
    threads: 1  # the model's forward; --set-threads embed=N for more per job
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    params:
        code=code_version_of("embed.py"),
        spec=encoder_spec,
        precision=PRECISION,
    script:
        "../workflow_scripts/embed.py"
