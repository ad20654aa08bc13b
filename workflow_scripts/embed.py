"""Snakemake adapter: every layer's embedding of one image set."""

from memprint.runtime import job
from memprint.stages.encoders import embed

run = job(snakemake)
embed(
    snakemake.params.spec,
    snakemake.input.weights or None,
    snakemake.input.imageset,
    snakemake.output[0],
    batch_size=run.batch_size,
    device=run.device,
    compile_blocks=run.compile,
    shard=snakemake.params.get("shard"),
)
