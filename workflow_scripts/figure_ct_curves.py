"""Snakemake adapter: the C_T-layer curves figure."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import figure_ct_curves, start_log

start_log(snakemake.log[0])
figure_ct_curves(list(snakemake.input.curves), snakemake.wildcards.encoder, snakemake.output.png, snakemake.output.pdf)
