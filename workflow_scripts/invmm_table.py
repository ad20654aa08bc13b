"""Snakemake adapter: one diffusion generator's InvMM scores, gathered."""

from memprint.runtime import job
from memprint.stages.invmm import invmm_table

job(snakemake)
invmm_table(list(snakemake.input), snakemake.output[0])
