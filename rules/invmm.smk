rule invmm_shard:
    """InvMM (inverting the sampler) of one shard of the scored images, on a GPU."""
    input:
        unpack(invmm_inputs),
    output:
        "results/invmm/{generator}/shard{shard}.csv",
    log:
        "logs/invmm_shard/{generator}/shard{shard}.log",
    benchmark:
        "results/benchmarks/invmm_shard/{generator}/shard{shard}.tsv"
    conda:
        CONDA_ENV
    threads: 2
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=720,
    params:
        code=code_version_of("invmm_shard.py"),
        spec=lambda wc: spec_of(wc.generator),
        name=lambda wc: wc.generator,
        shard=lambda wc: int(wc.shard),
        invmm=invmm_params() if INVMM else None,
        precision=PRECISION,
    script:
        "../workflow_scripts/invmm_shard.py"


rule invmm_table:
    """One diffusion model's InvMM scores, gathered from its shards (AUC when T has duplicated images)."""
    input:
        lambda wc: expand(
            "results/invmm/{generator}/shard{shard}.csv", generator=wc.generator, shard=range(INVMM["shards"])
        ),
    output:
        report("results/invmm/{generator}.csv", caption="../report/invmm_table.rst", category="InvMM"),
    log:
        "logs/invmm_table/{generator}.log",
    benchmark:
        "results/benchmarks/invmm_table/{generator}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_version_of("invmm_table.py"),
    script:
        "../workflow_scripts/invmm_table.py"


rule figure_invmm:
    """The most and least memorized images by InvMM score."""
    input:
        table="results/invmm/{generator}.csv",
        images=imageset(INVMM["images"]) if INVMM else [],
    output:
        png=report("results/figures/invmm/{generator}.png", caption="../report/invmm_figure.rst", category="InvMM"),
        pdf="results/figures/invmm/{generator}.pdf",
    log:
        "logs/figure_invmm/{generator}.log",
    benchmark:
        "results/benchmarks/figure_invmm/{generator}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_version_of("figure_invmm.py"),
    script:
        "../workflow_scripts/figure_invmm.py"


rule figure_invmm_scores:
    """InvMM's score distributions, duplicated against single training images."""
    input:
        "results/invmm/{generator}.csv",
    output:
        png=report(
            "results/figures/invmm/{generator}_scores.png", caption="../report/invmm_scores.rst", category="InvMM"
        ),
        pdf="results/figures/invmm/{generator}_scores.pdf",
    log:
        "logs/figure_invmm_scores/{generator}.log",
    benchmark:
        "results/benchmarks/figure_invmm_scores/{generator}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_version_of("figure_invmm_scores.py"),
    script:
        "../workflow_scripts/figure_invmm_scores.py"


rule invmm_side_by_side:
    """InvMM, the copy finder and C_T on one diffusion model (the first encoder's layers)."""
    input:
        table="results/invmm/{generator}.csv",
        copies=layout.copies(ENCODERS[0], "{generator}"),
        images=layout.copies(ENCODERS[0], "{generator}", "images"),
        curve=layout.score_curve(MAIN_SCORE, ENCODERS[0], "{generator}"),
        train=imageset("train"),
    output:
        md=report(
            "results/invmm/{generator}.side_by_side.md", caption="../report/invmm_side_by_side.rst", category="InvMM"
        ),
        csv="results/invmm/{generator}.side_by_side.csv",
    log:
        "logs/invmm_side_by_side/{generator}.log",
    benchmark:
        "results/benchmarks/invmm_side_by_side/{generator}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_version_of("invmm_side_by_side.py"),
    script:
        "../workflow_scripts/invmm_side_by_side.py"
