"""Snakemake adapter: download pretrained encoder weights (a local rule)."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import fetch_encoder_weights, start_log

start_log(snakemake.log[0])
fetch_encoder_weights(snakemake.params.spec, snakemake.output.weights)
