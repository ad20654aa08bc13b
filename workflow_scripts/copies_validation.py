"""Snakemake adapter: planted copies among a perfect generator's samples, found by the copy finder?."""

from memprint.runtime import job
from memprint.stages.copies import copies_validation

run = job(snakemake)
copies_validation(
    snakemake.input.reference,
    snakemake.input.train,
    snakemake.input.fresh,
    snakemake.input.images,
    snakemake.params.spec,
    snakemake.input.weights or None,
    snakemake.params.settings,
    snakemake.params.threshold,
    snakemake.params.replicates,
    snakemake.output.table,
    snakemake.output.png,
    snakemake.output.pdf,
    run.device,
    run.batch_size,
)
