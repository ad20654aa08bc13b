"""Snakemake adapter: the claims table of one encoder."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import claims, start_log

start_log(snakemake.log[0])
claims(snakemake.params.curve_files, snakemake.params.specs, snakemake.params.architectures, snakemake.params.baseline,
       snakemake.params.fingerprint_files, snakemake.input.statistics or None, snakemake.params.seed,
       snakemake.output.csv, snakemake.output.markdown)
