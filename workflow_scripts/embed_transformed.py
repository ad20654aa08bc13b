"""Snakemake adapter: every layer's embedding of an image set under one of the copy finder's transforms."""

from memprint.runtime import job
from memprint.stages.encoders import embed_transformed

run = job(snakemake)
embed_transformed(
    spec=snakemake.params.spec,
    weights=snakemake.input.weights or None,
    imageset=snakemake.input.imageset,
    transform=snakemake.params.transform,
    out=snakemake.output[0],
    batch_size=run.batch_size,
    device=run.device,
)
