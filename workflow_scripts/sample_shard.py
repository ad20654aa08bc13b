"""Snakemake adapter: one shard of a trained network's samples."""

from memprint.runtime import job
from memprint.stages.generators import sample_shard

run = job(snakemake)
sample_shard(
    snakemake.params.name,
    snakemake.params.spec,
    snakemake.params.shard,
    snakemake.input.weights,
    snakemake.output[0],
    run.device,
    run.batch_size,
)
