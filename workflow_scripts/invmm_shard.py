"""Snakemake adapter: InvMM scores of one shard of the scored images."""

from memprint.runtime import job
from memprint.stages.invmm import invmm_shard

run = job(snakemake)
invmm_shard(
    snakemake.params.name,
    snakemake.params.spec,
    snakemake.input.weights,
    snakemake.input.images,
    snakemake.params.invmm,
    snakemake.params.shard,
    snakemake.output[0],
    snakemake.input.get("encoder_weights") or None,
    run.device,
    run.invmm_batch_size,
)
