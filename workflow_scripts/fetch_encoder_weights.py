"""Snakemake adapter: an encoder's pretrained weights (a local rule)."""

from memprint.runtime import job
from memprint.stages.encoders import fetch_encoder_weights

job(snakemake)
fetch_encoder_weights(snakemake.params.spec, snakemake.output.weights)
