"""Snakemake adapter: the main score's (C_T's) layer curves of every generator."""

from memprint.runtime import job
from memprint.stages.figures import figure_ct_curves

job(snakemake)
curves = dict(zip(snakemake.params.generators, snakemake.input.curves))
figure_ct_curves(curves, snakemake.params.encoder, snakemake.output.png, snakemake.output.pdf)
