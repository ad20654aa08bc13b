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
    wildcard_constraints:
        imageset="[^/]+",
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


if TRAIN_SHARDS > 1:

    ruleorder: gather_train_shards > embed

    rule embed_shard:
        """Every layer's embedding of one even run of T's rows (runtime.train_shards of them, spread over nodes)."""
        input:
            imageset=layout.imageset("train"),
            weights=encoder_weights,
        output:
            temp("results/embeddings/{encoder}/shards/train.{shard}.h5"),
        log:
            "logs/embed_shard/{encoder}/{shard}.log",
        benchmark:
            "results/benchmarks/embed_shard/{encoder}/{shard}.tsv"
        conda:
            CONDA_ENV
        threads: 1
        resources:
            gpu=1,
            mem_mb=8000,
            runtime=120,
        params:
            code=code_version_of("embed.py"),
            spec=encoder_spec,
            precision=PRECISION,
            shard=lambda wc: (int(wc.shard), TRAIN_SHARDS),
        script:
            "../workflow_scripts/embed.py"

    rule gather_train_shards:
        """T's shard embeddings joined into one chunked file, one shard in memory at a time."""
        input:
            expand("results/embeddings/{{encoder}}/shards/train.{shard}.h5", shard=range(TRAIN_SHARDS)),
        output:
            "results/embeddings/{encoder}/train.h5",
        log:
            "logs/gather_train_shards/{encoder}.log",
        benchmark:
            "results/benchmarks/gather_train_shards/{encoder}.tsv"
        conda:
            CONDA_ENV
        resources:
            mem_mb=8000,
            runtime=60,
        params:
            code=code_version_of("gather_train_shards.py"),
        script:
            "../workflow_scripts/gather_train_shards.py"
