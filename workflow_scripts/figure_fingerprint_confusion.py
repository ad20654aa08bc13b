"""Snakemake adapter: confusion matrices of fingerprint matching."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import figure_fingerprint_confusion, start_log

start_log(snakemake.log[0])
figure_fingerprint_confusion(snakemake.input[0], snakemake.output.png, snakemake.output.pdf)
