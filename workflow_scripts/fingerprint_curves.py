"""Snakemake adapter: C_T-layer curves of one generator's protocol sets (targets and references, every split)."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import fingerprint_curves, start_log

start_log(snakemake.log[0])
fingerprint_curves(list(snakemake.input.references), snakemake.input.train, snakemake.input.generated,
                   snakemake.wildcards.encoder, snakemake.wildcards.generator, snakemake.params.architecture,
                   snakemake.params.run, snakemake.params.protocol, list(snakemake.output.curves),
                   snakemake.config.get("runtime", {}).get("device", "auto"))
