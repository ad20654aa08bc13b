"""Snakemake adapter: every generator's kind, weights, training time, sampling speed and FID."""

from memprint.runtime import job
from memprint.stages.generators import generator_summary

run = job(snakemake)
generator_summary(
    snakemake.params.specs,
    snakemake.params.imagesets,
    snakemake.input.test,
    snakemake.params.training,
    snakemake.params.inception,
    snakemake.output[0],
    run.device,
    snakemake.params.last_layers,
)
