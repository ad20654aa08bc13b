"""Snakemake adapter: the open-set ROC of fingerprint matching."""

from memprint.runtime import job
from memprint.stages.figures import figure_fingerprint_open_set

job(snakemake)
figure_fingerprint_open_set(snakemake.input[0], snakemake.output.png, snakemake.output.pdf)
