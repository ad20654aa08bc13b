"""Snakemake adapter: download a hub diffusion model to a local folder (a localrule: needs the network)."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import fetch_diffusion_model, start_log

start_log(snakemake.log[0])
fetch_diffusion_model(snakemake.params.model, snakemake.output[0])
