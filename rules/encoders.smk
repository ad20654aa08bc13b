rule train_encoder:
    """Train the pipeline's own ViT encoder on T (no download needed)."""
    input:
        train="results/imagesets/train.h5",
        test="results/imagesets/test.h5",
    output:
        weights="results/encoders/{encoder}/weights.pt",
        summary="results/encoders/{encoder}/training.json",
    log:
        "logs/train_encoder/{encoder}.log",
    benchmark:
        "results/benchmarks/train_encoder/{encoder}.tsv"
    wildcard_constraints:
        encoder=_alternatives(TRAINED_ENCODERS),
    priority: 2  # every embedding waits for it
    conda:
        CONDA_ENV
    threads: 1  # two threads were no faster on 2 cores; the weights depend on the thread count
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=60,
    params:
        code=code_version_of("train_encoder.py"),
        spec=encoder_spec,
    script:
        "../workflow_scripts/train_encoder.py"


localrules:
    fetch_encoder_weights,


rule fetch_encoder_weights:
    """Download pretrained weights on the submit host: compute nodes are often offline."""
    output:
        weights="results/encoders/{encoder}/weights.pt",
    log:
        "logs/fetch_encoder_weights/{encoder}.log",
    benchmark:
        "results/benchmarks/fetch_encoder_weights/{encoder}.tsv"
    wildcard_constraints:
        encoder=_alternatives(HUB_ENCODERS),
    conda:
        CONDA_ENV
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        code=code_version_of("fetch_encoder_weights.py"),
        spec=encoder_spec,
    script:
        "../workflow_scripts/fetch_encoder_weights.py"
