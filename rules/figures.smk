rule figure_ct_curves:
    """C_T against layer for every generator (one encoder)."""
    input:
        curves=expand("results/ct/{{encoder}}/{generator}.csv", generator=GENERATORS),
    output:
        png=report("results/figures/{encoder}/ct_curves.png", caption="../report/ct_curves.rst", category="C_T"),
        pdf="results/figures/{encoder}/ct_curves.pdf",
    log:
        "logs/figure_ct_curves/{encoder}.log",
    benchmark:
        "results/benchmarks/figure_ct_curves/{encoder}.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/figure_ct_curves.py"


rule figure_curve_similarity:
    """Paper figure 6b: cosine similarity between generators' (checkpoints') C_T-layer curves (layers 1..L)."""
    input:
        curves=expand("results/ct/{{encoder}}/{generator}.csv", generator=GENERATORS),
    output:
        png=report("results/figures/{encoder}/curve_similarity.png", caption="../report/curve_similarity.rst",
                   category="Fingerprint"),
        pdf="results/figures/{encoder}/curve_similarity.pdf",
        statistic="results/fingerprint/{encoder}/intra_minus_inter.csv",
    params:
        architectures=ARCHITECTURES,
    log:
        "logs/figure_curve_similarity/{encoder}.log",
    benchmark:
        "results/benchmarks/figure_curve_similarity/{encoder}.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow_scripts/figure_curve_similarity.py"
