rule train_encoder:
    """Train the pipeline's own ViT encoder on T (no download needed)."""
    input:
        train="results/imagesets/train.h5",
        test="results/imagesets/test.h5",
    output:
        weights="results/encoders/{encoder}/weights.pt",
        summary="results/encoders/{encoder}/training.json",
    wildcard_constraints:
        encoder=_alternatives(TRAINED_ENCODERS),
    params:
        spec=lambda wc: canonical(config["encoders"][wc.encoder]),
    log:
        "logs/train_encoder/{encoder}.log",
    benchmark:
        "results/benchmarks/train_encoder/{encoder}.tsv"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/train_encoder.py"


localrules:
    fetch_encoder_weights,


rule fetch_encoder_weights:
    """Download pretrained weights on the submit host: compute nodes are often offline."""
    output:
        weights="results/encoders/{encoder}/weights.pt",
    wildcard_constraints:
        encoder=_alternatives(HUB_ENCODERS),
    params:
        spec=lambda wc: canonical(config["encoders"][wc.encoder]),
    log:
        "logs/fetch_encoder_weights/{encoder}.log",
    benchmark:
        "results/benchmarks/fetch_encoder_weights/{encoder}.tsv"
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fetch_encoder_weights.py"
