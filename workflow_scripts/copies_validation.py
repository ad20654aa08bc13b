"""Snakemake adapter: planted copies among held-out images, by layer."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import copies_validation, start_log

start_log(snakemake.log[0])
copies_validation(snakemake.input.reference, snakemake.input.train, snakemake.input.fresh, snakemake.input.images,
                  snakemake.params.spec, snakemake.input.weights or None, snakemake.params.settings,
                  snakemake.params.threshold, snakemake.params.replicates, snakemake.output.table,
                  snakemake.output.png, snakemake.output.pdf, snakemake.config.get("runtime", {}).get("device", "auto"),
                  snakemake.config.get("runtime", {}).get("batch_size", 64))
