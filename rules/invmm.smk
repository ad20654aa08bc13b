INVMM = config.get("invmm")
INVMM_GENERATORS = INVMM["generators"] if INVMM else []


def invmm_params():
    """What changes a score: the scored images, the similarity (with its encoder's spec) and the settings."""
    similarity = dict(INVMM["similarity"])
    if similarity["kind"] == "encoder":
        similarity["encoder_spec"] = config["encoders"][similarity["encoder"]]
    return canonical({**{k: v for k, v in INVMM.items() if k != "generators"}, "similarity": similarity})


def invmm_inputs(wildcards):
    """The diffusion model's weights, the scored image set, and the similarity's weights."""
    inputs = {"weights": shard_inputs(wildcards)["weights"], "images": f"results/imagesets/{INVMM['images']}.h5"}
    similarity = INVMM["similarity"]
    if similarity["kind"] == "sscd":
        inputs["sscd"] = similarity["file"]
    if similarity["kind"] == "encoder":
        inputs["encoder_weights"] = encoder_weights(SimpleNamespace(encoder=similarity["encoder"]))
    return inputs


rule invmm_shard:
    """InvMM (inverting the sampler) of one shard of the scored images, on a GPU."""
    input:
        unpack(invmm_inputs),
    output:
        "results/invmm/{generator}/shard{shard}.csv",
    params:
        spec=lambda wc: canonical(config["generators"][wc.generator]),
        invmm=invmm_params() if INVMM else None,
    log:
        "logs/invmm_shard/{generator}/shard{shard}.log",
    benchmark:
        "results/benchmarks/invmm_shard/{generator}/shard{shard}.tsv"
    threads: 2
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=720,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/invmm_shard.py"


rule invmm_table:
    """One diffusion model's InvMM scores, gathered from its shards (AUC when T has duplicated images)."""
    input:
        lambda wc: expand("results/invmm/{generator}/shard{shard}.csv", generator=wc.generator,
                          shard=range(INVMM["shards"])),
    output:
        report("results/invmm/{generator}.csv", caption="../report/invmm_table.rst", category="InvMM"),
    log:
        "logs/invmm_table/{generator}.log",
    benchmark:
        "results/benchmarks/invmm_table/{generator}.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/invmm_table.py"


rule figure_invmm:
    """The most and least memorized images by InvMM score."""
    input:
        table="results/invmm/{generator}.csv",
        images=f"results/imagesets/{INVMM['images']}.h5" if INVMM else [],
    output:
        png=report("results/figures/invmm/{generator}.png", caption="../report/invmm_figure.rst", category="InvMM"),
        pdf="results/figures/invmm/{generator}.pdf",
    log:
        "logs/figure_invmm/{generator}.log",
    benchmark:
        "results/benchmarks/figure_invmm/{generator}.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/figure_invmm.py"
