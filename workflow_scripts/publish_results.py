"""Snakemake adapter: copy the run's tables and figures to the committed results folder."""

from memprint.runtime import job
from memprint.stages.claims import publish_results

job(snakemake)
publish_results(
    snakemake.params.files,
    snakemake.params.curve_tables,
    "results/benchmarks",
    snakemake.params.folder,
    snakemake.output.timings,
    snakemake.params.copy_tables,
)
