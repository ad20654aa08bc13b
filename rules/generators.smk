from memprint.generators import AUGMENT_KINDS, MODEL_KINDS, SEGMENTED_KINDS


def generator_inputs(wildcards):
    """Model kinds: their shards; existing samples: their file or folder; the others: T, plus the altered set
    and the segmenter for the pathological kinds."""
    spec = config["generators"][wildcards.generator]
    if spec["kind"] in MODEL_KINDS:
        return {"shards": [f"results/samples/{wildcards.generator}/shard{k}.h5" for k in range(spec["shards"])]}
    if spec["kind"] == "samples":
        return {"samples": spec["path"]}
    inputs = {"train": "results/imagesets/train.h5"}
    if spec["kind"] in AUGMENT_KINDS:
        inputs["source"] = f"results/imagesets/{spec.get('source', 'train')}.h5"
    if spec["kind"] in SEGMENTED_KINDS:
        inputs["segmenter"] = "results/segmenter/segmenter.pt"
    return inputs


def shard_inputs(wildcards):
    """The weights a model generator samples: a zoo checkpoint, a local file or folder, or the fetched hub model."""
    spec = config["generators"][wildcards.generator]
    if spec["kind"] == "zoo":
        return {"weights": f"results/zoo/{spec['model']}/seed{spec['train_seed']}/epoch{spec['epoch']}.pt"}
    if spec["kind"] == "diffusion":
        local = Path(spec["model"]).exists()
        return {"weights": spec["model"] if local else f"results/downloads/diffusion/{wildcards.generator}"}
    return {"weights": spec["checkpoint" if spec["kind"] == "module" else "file"]}


rule sample_generator:
    """Fit one generator on T, alter its source set, read existing samples, or gather a model's shards."""
    input:
        unpack(generator_inputs),
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


rule sample_shard:
    """One shard of a model generator's samples (its own images, its own seeds): shards run on many GPUs at once."""
    input:
        unpack(shard_inputs),
    output:
        "results/samples/{generator}/shard{shard}.h5",
    params:
        spec=lambda wc: canonical(config["generators"][wc.generator]),
    log:
        "logs/sample_shard/{generator}/shard{shard}.log",
    benchmark:
        "results/benchmarks/sample_shard/{generator}/shard{shard}.tsv"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/sample_shard.py"


localrules:
    fetch_diffusion_model,


rule fetch_diffusion_model:
    """Download a hub diffusion model on the login node (compute nodes are often offline)."""
    output:
        directory("results/downloads/diffusion/{generator}"),
    params:
        model=lambda wc: config["generators"][wc.generator]["model"],
    log:
        "logs/fetch_diffusion_model/{generator}.log",
    benchmark:
        "results/benchmarks/fetch_diffusion_model/{generator}.tsv"
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/fetch_diffusion_model.py"


rule train_zoo_model:
    """Train one zoo model with one seed on T, keeping a checkpoint at each configured epoch."""
    input:
        train="results/imagesets/train.h5",
    output:
        checkpoints=expand("results/zoo/{{model}}/seed{{train_seed}}/epoch{epoch}.pt", epoch=ZOO_EPOCHS),
        summary="results/zoo/{model}/seed{train_seed}/training.json",
    params:
        spec=lambda wc: canonical(config["zoo"]["models"][wc.model]),
        epochs=ZOO_EPOCHS,
    log:
        "logs/train_zoo_model/{model}/seed{train_seed}.log",
    benchmark:
        "results/benchmarks/train_zoo_model/{model}/seed{train_seed}.tsv"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=240,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/train_zoo_model.py"


rule generator_summary:
    """Every generator's kind, weights, training time, sampling speed and FID against P."""
    input:
        imagesets=expand("results/imagesets/{generator}.h5", generator=GENERATORS),
        test="results/imagesets/test.h5",
        training=expand("results/zoo/{model}/seed{train_seed}/training.json", model=ZOO_MODELS,
                        train_seed=config.get("zoo", {}).get("seeds", [])),
        inception=config["fid"]["inception"] or [],
    output:
        "results/generators/summary.csv",
    params:
        specs={name: canonical(config["generators"][name]) for name in GENERATORS},
        inception=config["fid"]["inception"],
    log:
        "logs/generator_summary.log",
    benchmark:
        "results/benchmarks/generator_summary.tsv"
    threads: 2
    resources:
        gpu=1 if config["fid"]["inception"] else 0,
        mem_mb=8000,
        runtime=60,
    conda:
        CONDA_ENV
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
    params:
        spec=canonical(config["segmenter"]),
    log:
        "logs/train_segmenter.log",
    benchmark:
        "results/benchmarks/train_segmenter.tsv"
    threads: 2
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/train_segmenter.py"
