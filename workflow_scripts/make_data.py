"""Snakemake adapter: the training set T, the test set P and the held-out images."""

from memprint.runtime import job
from memprint.stages.data import make_data

job(snakemake)
make_data(snakemake.params.data, snakemake.output.train, snakemake.output.test, snakemake.output.get("heldout"))
