"""Snakemake adapter: copy rates by layer and the most-copied pairs."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import figure_copies, start_log

start_log(snakemake.log[0])
figure_copies(snakemake.params.copies, snakemake.params.imagesets, snakemake.input.train, snakemake.wildcards.encoder,
              snakemake.output.rates, snakemake.output.png, snakemake.output.pdf, snakemake.output.pairs_png,
              snakemake.output.pairs_pdf)
