"""Snakemake adapter: train the pipeline's own ViT encoder on T."""

from memprint.runtime import job
from memprint.stages.encoders import train_encoder

run = job(snakemake)
train_encoder(
    snakemake.params.spec,
    snakemake.input.train,
    snakemake.input.test,
    snakemake.output.weights,
    snakemake.output.summary,
    run.device,
)
