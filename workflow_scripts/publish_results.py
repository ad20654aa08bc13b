"""Snakemake adapter: copy the run's tables and figures to the committed results folder."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import publish_results, start_log

start_log(snakemake.log[0])
publish_results(snakemake.params.files, snakemake.params.curve_tables, "results/benchmarks", snakemake.params.folder,
                snakemake.output.timings)
