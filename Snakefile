# memprint: layer-wise C_T memorization curves and generator fingerprints. See README.md.
configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/generators.smk"
include: "rules/encoders.smk"
include: "rules/embeddings.smk"
include: "rules/scores.smk"
include: "rules/fingerprint.smk"
include: "rules/figures.smk"
include: "rules/invmm.smk"
include: "rules/copies.smk"
include: "rules/claims.smk"


rule all:
    input:
        [layout.score_curve(s, e, g) for s in SCORES for e in ENCODERS for g in GENERATORS],
        expand("results/figures/{encoder}/ct_curves.{ext}", encoder=ENCODERS, ext=FIGURE_FORMATS),
        expand("results/figures/{encoder}/curve_similarity.{ext}", encoder=ENCODERS, ext=FIGURE_FORMATS),
        expand("results/figures/{encoder}/scores.{ext}", encoder=ENCODERS, ext=FIGURE_FORMATS),
        expand("results/figures/sample_grid.{ext}", ext=FIGURE_FORMATS),
        FINGERPRINT_OUTPUTS,
        "results/generators/summary.csv",
        expand("results/figures/invmm/{generator}.{ext}", generator=INVMM_GENERATORS, ext=FIGURE_FORMATS),
        expand("results/claims/{encoder}.md", encoder=ENCODERS),
        expand(
            "results/figures/{encoder}/{figure}.{ext}",
            encoder=ENCODERS,
            figure=["copy_rates", "copy_kinds", "copied_pairs"],
            ext=FIGURE_FORMATS,
        ),
        expand("results/figures/{encoder}/copies/{generator}.png", encoder=ENCODERS, generator=GENERATORS),
        expand("results/figures/{encoder}/copies_validation.png", encoder=ENCODERS) if COPIES_VALIDATION else [],
        rules.publish_results.output,
