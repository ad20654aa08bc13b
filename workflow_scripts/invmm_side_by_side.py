"""Snakemake adapter: InvMM, the copy finder and C_T side by side on one diffusion generator."""

from memprint.runtime import job
from memprint.stages.invmm_validation import invmm_side_by_side

job(snakemake)
invmm_side_by_side(
    table=snakemake.input.table,
    copies=snakemake.input.copies,
    images=snakemake.input.images,
    curve=snakemake.input.curve,
    train=snakemake.input.train,
    md=snakemake.output.md,
    csv=snakemake.output.csv,
)
