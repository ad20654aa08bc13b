rule figure_ct_curves:
    """The main score (C_T) against layer for every generator (one encoder)."""
    input:
        curves=[layout.score_curve(MAIN_SCORE, "{encoder}", g) for g in GENERATORS],
    output:
        png=report("results/figures/{encoder}/ct_curves.png", caption="../report/ct_curves.rst", category="C_T"),
        pdf="results/figures/{encoder}/ct_curves.pdf",
    log:
        "logs/figure_ct_curves/{encoder}.log",
    benchmark:
        "results/benchmarks/figure_ct_curves/{encoder}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_version_of("figure_ct_curves.py"),
        encoder=lambda wc: wc.encoder,
        generators=GENERATORS,
    script:
        "../workflow_scripts/figure_ct_curves.py"


rule figure_curve_similarity:
    """Paper figure 6b: cosine similarity between generators' (checkpoints') C_T-layer curves (layers 1..L)."""
    input:
        curves=[layout.score_curve(MAIN_SCORE, "{encoder}", g) for g in GENERATORS],
    output:
        png=report(
            "results/figures/{encoder}/curve_similarity.png",
            caption="../report/curve_similarity.rst",
            category="Fingerprint",
        ),
        pdf="results/figures/{encoder}/curve_similarity.pdf",
        statistic="results/fingerprint/{encoder}/intra_minus_inter.csv",
    log:
        "logs/figure_curve_similarity/{encoder}.log",
    benchmark:
        "results/benchmarks/figure_curve_similarity/{encoder}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_version_of("figure_curve_similarity.py"),
        encoder=lambda wc: wc.encoder,
        generators=GENERATORS,
        architectures=ARCHITECTURES,
    script:
        "../workflow_scripts/figure_curve_similarity.py"


rule figure_scores:
    """Paper figure 5 analog: every generator's curve under every score (C_T settings and the other scores), side by
    side."""
    input:
        curves=[layout.score_curve(s, "{encoder}", g) for s in SCORES for g in GENERATORS],
    output:
        png=report("results/figures/{encoder}/scores.png", caption="../report/scores.rst", category="Scores"),
        pdf="results/figures/{encoder}/scores.pdf",
    log:
        "logs/figure_scores/{encoder}.log",
    benchmark:
        "results/benchmarks/figure_scores/{encoder}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_version_of("figure_scores.py"),
        encoder=lambda wc: wc.encoder,
        scores=list(SCORES),
        generators=GENERATORS,
    script:
        "../workflow_scripts/figure_scores.py"


rule figure_sample_grid:
    """Paper figure 4 analog: a row of images from every generator (the pathological sets and the baselines)."""
    input:
        [imageset(g) for g in GENERATORS],
    output:
        png=report("results/figures/sample_grid.png", caption="../report/sample_grid.rst", category="Generators"),
        pdf="results/figures/sample_grid.pdf",
    log:
        "logs/figure_sample_grid.log",
    benchmark:
        "results/benchmarks/figure_sample_grid.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=code_version_of("figure_sample_grid.py"),
        imagesets={g: imageset(g) for g in GENERATORS},
    script:
        "../workflow_scripts/figure_sample_grid.py"
