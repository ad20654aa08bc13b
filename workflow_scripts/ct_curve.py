"""Snakemake adapter: the C_T-layer curves of one generator, one per C_T setting."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import ct_curve, start_log

start_log(snakemake.log[0])
ct_curve(list(snakemake.input.references), snakemake.input.train, snakemake.input.generated,
         list(snakemake.output.curves), list(snakemake.output.replicates), snakemake.params.generator,
         snakemake.params.intervals, snakemake.config.get("runtime", {}).get("device", "auto"),
         snakemake.output.copies, snakemake.params.copy_threshold)
