"""Snakemake adapter: train the weakly supervised segmenter."""

from memprint.runtime import job
from memprint.stages.segmenter import train_segmenter

run = job(snakemake)
train_segmenter(
    snakemake.params.spec,
    snakemake.input.train,
    snakemake.input.test,
    snakemake.output.model,
    snakemake.output.quality,
    run.device,
)
