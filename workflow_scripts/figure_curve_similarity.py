"""Snakemake adapter: cosine similarity between the generators' curves (paper figure 6b)."""

from memprint.runtime import job
from memprint.stages.figures import figure_curve_similarity

job(snakemake)
figure_curve_similarity(
    dict(zip(snakemake.params.generators, snakemake.input.curves)),
    snakemake.params.encoder,
    snakemake.params.architectures,
    snakemake.output.png,
    snakemake.output.pdf,
    snakemake.output.statistic,
)
