"""Snakemake adapter: the training and test image sets."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import make_data, start_log

start_log(snakemake.log[0])
make_data(snakemake.params.data, snakemake.output.train, snakemake.output.test, snakemake.output.get("heldout"))
