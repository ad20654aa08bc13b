"""Snakemake adapter: the most and least memorized images by InvMM score."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import figure_invmm, start_log

start_log(snakemake.log[0])
figure_invmm(snakemake.input.table, snakemake.input.images, snakemake.output.png, snakemake.output.pdf)
