"""Snakemake adapter: one shard of a model generator's samples."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

import torch

from memprint.stages import sample_shard, start_log

start_log(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
runtime = snakemake.config.get("runtime", {})
sample_shard(snakemake.wildcards.generator, snakemake.params.spec, int(snakemake.wildcards.shard),
             snakemake.input.weights, snakemake.output[0], runtime.get("device", "auto"), runtime.get("batch_size", 256))
