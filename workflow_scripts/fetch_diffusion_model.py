"""Snakemake adapter: a hub diffusion model saved to a local folder (a local rule)."""

from memprint.runtime import job
from memprint.stages.generators import fetch_diffusion_model

job(snakemake)
fetch_diffusion_model(snakemake.params.model, snakemake.output[0])
