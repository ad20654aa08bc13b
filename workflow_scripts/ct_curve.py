"""Snakemake adapter: one generator's C_T-layer curves (every C_T setting) and its per-sample copies."""

from memprint.runtime import job
from memprint.stages.ct import ct_curve

run = job(snakemake)
ct_curve(
    list(snakemake.input.references),
    snakemake.input.train,
    snakemake.input.generated,
    list(snakemake.output.curves),
    list(snakemake.output.replicates),
    snakemake.params.generator,
    snakemake.params.intervals,
    run.device,
    snakemake.output.copies,
    snakemake.params.copy_threshold,
)
