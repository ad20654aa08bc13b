"""Snakemake adapter: fit one generator (or alter its source set) and sample it."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import make_generator_samples, start_log

start_log(snakemake.log[0])
make_generator_samples(snakemake.wildcards.generator, snakemake.params.spec, snakemake.input.get("train"),
                       snakemake.output[0], snakemake.input.get("source"), snakemake.input.get("segmenter"),
                       snakemake.config.get("runtime", {}).get("device", "auto"), snakemake.input.get("shards"))
