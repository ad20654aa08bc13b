"""Snakemake adapter: the C_T-layer curve of one generator."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import ct_curve, start_log

start_log(snakemake.log[0])
ct_curve(snakemake.input.reference, snakemake.input.train, snakemake.input.generated, snakemake.output[0],
         snakemake.config.get("runtime", {}).get("device", "auto"))
