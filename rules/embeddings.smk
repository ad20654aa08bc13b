rule embed:
    """Every layer's embedding of one image set, all layers in one forward pass per batch."""
    input:
        imageset="results/imagesets/{imageset}.h5",
        weights=encoder_weights,
    output:
        "results/embeddings/{encoder}/{imageset}.h5",
    params:
        spec=lambda wc: canonical(config["encoders"][wc.encoder]),
    log:
        "logs/embed/{encoder}/{imageset}.log",
    benchmark:
        "results/benchmarks/embed/{encoder}/{imageset}.tsv"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/embed.py"
