"""Snakemake adapter: the C_T-layer curves of every generator."""

from memprint.runtime import job
from memprint.stages.figures import figure_ct_curves

job(snakemake)
figure_ct_curves(snakemake.params.curves, snakemake.params.encoder, snakemake.output.png, snakemake.output.pdf)
