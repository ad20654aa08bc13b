"""Snakemake adapter: InvMM's score distributions of one diffusion generator."""

from memprint.runtime import job
from memprint.stages.invmm_validation import figure_invmm_scores

job(snakemake)
figure_invmm_scores(snakemake.input[0], snakemake.output.png, snakemake.output.pdf)
