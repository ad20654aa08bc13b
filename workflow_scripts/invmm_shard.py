"""Snakemake adapter: InvMM scores of one shard of the scored images."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

import torch

from memprint.stages import invmm_shard, start_log

start_log(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
runtime = snakemake.config.get("runtime", {})
invmm_shard(snakemake.wildcards.generator, snakemake.params.spec, snakemake.input.weights, snakemake.input.images,
            snakemake.params.invmm, int(snakemake.wildcards.shard), snakemake.output[0],
            snakemake.input.get("encoder_weights") or None, runtime.get("device", "auto"),
            runtime.get("invmm_batch_size", 64))
