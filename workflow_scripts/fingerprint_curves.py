"""Snakemake adapter: C_T-layer curves of reference/target halves of one generator's samples."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import fingerprint_curves, start_log

start_log(snakemake.log[0])
fingerprint_curves(snakemake.input.reference, snakemake.input.train, snakemake.input.generated,
                   snakemake.wildcards.encoder, snakemake.wildcards.generator, snakemake.params.architecture, snakemake.params.splits,
                   snakemake.params.seed, snakemake.output[0], snakemake.config.get("runtime", {}).get("device", "auto"))
