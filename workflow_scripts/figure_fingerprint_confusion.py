"""Snakemake adapter: confusion matrices of fingerprint matching."""

from memprint.runtime import job
from memprint.stages.figures import figure_fingerprint_confusion

job(snakemake)
figure_fingerprint_confusion(snakemake.input[0], snakemake.output.png, snakemake.output.pdf)
