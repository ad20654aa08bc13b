"""Snakemake adapter: InvMM's score distributions of one diffusion generator."""

from memprint.runtime import job
from memprint.stages.invmm_validation import figure_invmm_scores

job(snakemake)
figure_invmm_scores(table=snakemake.input[0], png=snakemake.output.png, pdf=snakemake.output.pdf)
