"""Snakemake adapter: Table 1: accuracy with intervals, leave-one-model-out, open set, time per method."""

from memprint.runtime import job
from memprint.stages.fingerprint_table import fingerprint_table

job(snakemake)
fingerprint_table(
    list(snakemake.input.curves),
    snakemake.input.statistics,
    list(snakemake.input.classifiers),
    snakemake.params.embeddings,
    snakemake.params.references,
    snakemake.output.matches,
    snakemake.output.table,
    snakemake.output.markdown,
    snakemake.output.open_set,
    seed=snakemake.params.seed,
    left_out=snakemake.params.left_out,
)
