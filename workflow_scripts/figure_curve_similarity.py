"""Snakemake adapter: the checkpoint heatmap (cosine similarity between generators' curves)."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import figure_curve_similarity, start_log

start_log(snakemake.log[0])
figure_curve_similarity(list(snakemake.input.curves), snakemake.wildcards.encoder, snakemake.params.architectures,
                        snakemake.output.png, snakemake.output.pdf, snakemake.output.statistic)
