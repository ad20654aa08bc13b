"""Snakemake adapter: the most and least memorized images by InvMM score."""

from memprint.runtime import job
from memprint.stages.invmm import figure_invmm

job(snakemake)
figure_invmm(snakemake.input.table, snakemake.input.images, snakemake.output.png, snakemake.output.pdf)
