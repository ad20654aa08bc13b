"""Snakemake adapter: a row of samples of every generator."""

from memprint.runtime import job
from memprint.stages.figures import figure_sample_grid

job(snakemake)
figure_sample_grid(snakemake.params.imagesets, snakemake.output.png, snakemake.output.pdf)
