"""Snakemake adapter: InvMM, the copy finder and C_T side by side on one diffusion generator."""

from memprint.runtime import job
from memprint.stages.invmm_validation import invmm_side_by_side

job(snakemake)
invmm_side_by_side(
    snakemake.input.table,
    snakemake.input.copies,
    snakemake.input.images,
    snakemake.input.curve,
    snakemake.input.train,
    snakemake.output.md,
    snakemake.output.csv,
)
