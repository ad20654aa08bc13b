"""Snakemake adapter: one generator's samples (fitted, altered, read, or gathered from its shards)."""

from memprint.runtime import job
from memprint.stages.generators import make_generator_samples

run = job(snakemake)
make_generator_samples(
    snakemake.params.name,
    snakemake.params.spec,
    snakemake.output[0],
    snakemake.input.get("train"),
    snakemake.input.get("source"),
    snakemake.input.get("segmenter"),
    run.device,
    snakemake.input.get("shards"),
)
