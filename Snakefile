# memprint: layer-wise C_T memorization curves and generator fingerprints. See README.md.
configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/generators.smk"
include: "rules/encoders.smk"
include: "rules/embeddings.smk"
include: "rules/scores.smk"


if FINGERPRINTED:  # optional: only with a fingerprint section and two architectures to tell apart

    include: "rules/fingerprint.smk"


include: "rules/figures.smk"
include: "rules/invmm.smk"
include: "rules/copies.smk"
include: "rules/claims.smk"


rule all:
    input:
        [layout.score_curve(s, e, g) for s in SCORES for e in ENCODERS for g in GENERATORS],
        expand("results/figures/{encoder}/{figure}.{ext}", encoder=ENCODERS, figure=FIGURES, ext=FIGURE_FORMATS),
        expand("results/figures/sample_grid.{ext}", ext=FIGURE_FORMATS),
        FINGERPRINT_OUTPUTS,
        "results/generators/summary.csv",
        expand(
            "results/figures/invmm/{generator}{kind}.{ext}",
            generator=INVMM_GENERATORS,
            kind=["", "_scores"],
            ext=FIGURE_FORMATS,
        ),
        expand("results/invmm/{generator}.side_by_side.md", generator=INVMM_GENERATORS),
        expand("results/claims/{encoder}.md", encoder=ENCODERS) if CLAIMS is not None else [],
        expand("results/figures/{encoder}/copies/{generator}.png", encoder=ENCODERS, generator=GENERATORS),
        expand("results/figures/{encoder}/copies_validation.png", encoder=ENCODERS) if COPIES_VALIDATION else [],
        rules.publish_results.output,
