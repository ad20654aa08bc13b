"""Snakemake adapter: every generator's curve under every score, side by side."""

from memprint.runtime import job
from memprint.stages.figures import figure_scores

job(snakemake)
params, files = snakemake.params, iter(snakemake.input.curves)
curves = {score: {g: next(files) for g in params.generators} for score in params.scores}
figure_scores(curves, params.encoder, snakemake.output.png, snakemake.output.pdf)
