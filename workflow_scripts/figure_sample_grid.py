"""Snakemake adapter: a row of sample images per generator."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import figure_sample_grid, start_log

start_log(snakemake.log[0])
figure_sample_grid(dict(zip(snakemake.params.generators, snakemake.input)), snakemake.output.png, snakemake.output.pdf)
