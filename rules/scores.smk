rule score_reference:
    """Per score and layer, what depends on T and P only (C_T's cells and P's distances, authenticity's
    training-set distances), shared by every generator; T and P are read once."""
    input:
        train=layout.embedding("{encoder}", "train"),
        test=layout.embedding("{encoder}", "test"),
    output:
        **per_score(layout.score_reference, "{encoder}"),
    log:
        layout.log("score_reference", "{encoder}"),
    benchmark:
        layout.benchmark("score_reference", "{encoder}")
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        code=code_version_of("score_reference.py"),
        scores=scores_param(),
    script:
        "../workflow_scripts/score_reference.py"


rule score_curve:
    """One generator's curve under every score with 95% bootstrap intervals: one job, the embeddings read once."""
    input:
        references=per_score(layout.score_reference, "{encoder}").values(),
        train=layout.embedding("{encoder}", "train"),
        test=layout.embedding("{encoder}", "test"),
        generated=layout.embedding("{encoder}", "{generator}"),
    output:
        curves=per_score(layout.score_curve, "{encoder}", "{generator}").values(),
        replicates=per_score(layout.score_replicates, "{encoder}", "{generator}").values(),
    log:
        layout.log("score_curve", "{encoder}", "{generator}"),
    benchmark:
        layout.benchmark("score_curve", "{encoder}", "{generator}")
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        code=code_version_of("score_curve.py"),
        scores=scores_param(),
        intervals=canonical(config["intervals"]),
        generator=lambda wc: wc.generator,
    script:
        "../workflow_scripts/score_curve.py"
