rule sample_generator:
    """Fit one generator on T, alter its source set, read existing samples, or gather a model's shards."""
    input:
        unpack(generator_inputs),
    output:
        "results/imagesets/{generator}.h5",
    log:
        "logs/sample_generator/{generator}.log",
    benchmark:
        "results/benchmarks/sample_generator/{generator}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        code=code_version_of("sample_generator.py"),
        spec=lambda wc: spec_of(wc.generator),
        contents=lambda wc: generator_contents(wc.generator),
        name=lambda wc: wc.generator,
    script:
        "../workflow_scripts/sample_generator.py"


rule sample_shard:
    """One shard of a model generator's samples (its own images, its own seeds): shards run on many GPUs at once."""
    input:
        weights=generator_weights,
    output:
        "results/samples/{generator}/shard{shard}.h5",
    log:
        "logs/sample_shard/{generator}/shard{shard}.log",
    benchmark:
        "results/benchmarks/sample_shard/{generator}/shard{shard}.tsv"
    conda:
        CONDA_ENV
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    params:
        code=code_version_of("sample_shard.py"),
        spec=lambda wc: spec_of(wc.generator),
        name=lambda wc: wc.generator,
        shard=lambda wc: int(wc.shard),
        precision=PRECISION,
    script:
        "../workflow_scripts/sample_shard.py"


localrules:
    fetch_diffusion_model,
    fetch_published_samples,


rule fetch_published_samples:
    """Download a published model's sample grid by its commit-pinned URL, checked against the manifest's hash."""
    output:
        "results/downloads/published/{grid_file}",
    log:
        "logs/fetch_published_samples/{grid_file}.log",
    benchmark:
        "results/benchmarks/fetch_published_samples/{grid_file}.tsv"
    wildcard_constraints:
        grid_file=_alternatives([os.path.basename(path) for path in DOWNLOADS]),
    conda:
        CONDA_ENV
    params:
        code=code_version_of("fetch_published_samples.py"),
        grid=lambda wc: DOWNLOADS[f"results/downloads/published/{wc.grid_file}"],
    script:
        "../workflow_scripts/fetch_published_samples.py"


rule fetch_diffusion_model:
    """Download a hub diffusion model on the login node (compute nodes are often offline)."""
    output:
        directory("results/downloads/diffusion/{generator}"),
    log:
        "logs/fetch_diffusion_model/{generator}.log",
    benchmark:
        "results/benchmarks/fetch_diffusion_model/{generator}.tsv"
    wildcard_constraints:
        generator=_alternatives(HUB_GENERATORS),
    conda:
        CONDA_ENV
    params:
        code=code_version_of("fetch_diffusion_model.py"),
        model=lambda wc: KINDS[wc.generator].spec["model"],
    script:
        "../workflow_scripts/fetch_diffusion_model.py"


rule train_zoo_model:
    """Train one zoo model with one seed on T, keeping a checkpoint at each configured epoch."""
    input:
        train="results/imagesets/train.h5",
    output:
        checkpoints=expand("results/zoo/{{model}}/seed{{train_seed}}/epoch{epoch}.pt", epoch=ZOO["epochs"]),
        summary="results/zoo/{model}/seed{train_seed}/training.json",
    log:
        "logs/train_zoo_model/{model}/seed{train_seed}.log",
    benchmark:
        "results/benchmarks/train_zoo_model/{model}/seed{train_seed}.tsv"
    priority: 2  # the longest jobs (each holds every core): start them before the many short ones
    conda:
        CONDA_ENV
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    params:
        code=code_version_of("train_zoo_model.py"),
        spec=lambda wc: canonical(ZOO["models"][wc.model]),
        epochs=ZOO["epochs"],
        train_seed=lambda wc: int(wc.train_seed),
        precision=PRECISION,
    script:
        "../workflow_scripts/train_zoo_model.py"


rule generator_summary:
    """Every generator's kind, weights, training time, sampling speed, FID against P and the Fréchet distance to P
    in every encoder's last layer."""
    input:
        imagesets=[imageset(g) for g in GENERATORS],
        test=imageset("test"),
        training=list(zoo_training_summaries().values()),
        inception=config["fid"]["inception"] or [],
        last_layers=[path for e in ENCODERS for path in embeddings(e, ["test"] + GENERATORS).values()],
    output:
        "results/generators/summary.csv",
    log:
        "logs/generator_summary.log",
    benchmark:
        "results/benchmarks/generator_summary.tsv"
    conda:
        CONDA_ENV
    threads: 2 if config["fid"]["inception"] else 1
    resources:
        gpu=1 if config["fid"]["inception"] else 0,
        mem_mb=8000,
        runtime=60,
    params:
        code=code_version_of("generator_summary.py"),
        specs={name: spec_of(name) for name in GENERATORS},
        imagesets={g: imageset(g) for g in GENERATORS},
        training=zoo_training_summaries(),
        inception=config["fid"]["inception"],
        last_layers={e: embeddings(e, ["test"] + GENERATORS) for e in ENCODERS},
    script:
        "../workflow_scripts/generator_summary.py"


rule train_segmenter:
    """The weakly supervised ResNet-18 segmenter (Bai et al., appendix A), trained on T's labels."""
    input:
        train="results/imagesets/train.h5",
        test="results/imagesets/test.h5",
    output:
        model="results/segmenter/segmenter.pt",
        quality="results/segmenter/quality.json",
    log:
        "logs/train_segmenter.log",
    benchmark:
        "results/benchmarks/train_segmenter.tsv"
    priority: 3  # on the longest path (segmenter, background swaps, their scores): start it first
    conda:
        CONDA_ENV
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    params:
        code=code_version_of("train_segmenter.py"),
        spec=canonical(config["segmenter"]),
    script:
        "../workflow_scripts/train_segmenter.py"
