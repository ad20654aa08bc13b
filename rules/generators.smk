SEGMENTED_KINDS = ("noise_background", "landscape_background")
AUGMENT_KINDS = ("rotate", "down_up", "patch_shuffle") + SEGMENTED_KINDS


def generator_inputs(wildcards):
    """T always; the altered set and the segmenter for the pathological generators."""
    spec = config["generators"][wildcards.generator]
    inputs = {"train": "results/imagesets/train.h5"}
    if spec["kind"] in AUGMENT_KINDS:
        inputs["source"] = f"results/imagesets/{spec.get('source', 'train')}.h5"
    if spec["kind"] in SEGMENTED_KINDS:
        inputs["segmenter"] = "results/segmenter/segmenter.pt"
    return inputs


rule sample_generator:
    """Fit one generator on T (or alter its source set) and write its samples."""
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
