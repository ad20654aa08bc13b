"""Snakemake adapter: download a torchvision classifier baseline's pretrained weights (a local rule)."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import fetch_classifier_weights, start_log

start_log(snakemake.log[0])
fetch_classifier_weights(snakemake.params.spec, snakemake.output[0])
