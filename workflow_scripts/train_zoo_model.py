"""Snakemake adapter: train one zoo model with one seed."""

from memprint.runtime import job
from memprint.stages.generators import train_zoo_model

run = job(snakemake)
train_zoo_model(
    snakemake.params.spec,
    snakemake.params.epochs,
    snakemake.params.train_seed,
    snakemake.input.train,
    snakemake.output.checkpoints,
    snakemake.output.summary,
    run.device,
)
