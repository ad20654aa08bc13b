"""Snakemake adapter: the C_T-layer curves under each C_T setting, side by side."""

from memprint.runtime import job
from memprint.stages.figures import figure_ct_settings

job(snakemake)
figure_ct_settings(snakemake.params.curves, snakemake.params.encoder, snakemake.output.png, snakemake.output.pdf)
