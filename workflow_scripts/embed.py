"""Snakemake adapter: every layer's embedding of one image set."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

import torch

from memprint.stages import embed, start_log

start_log(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
runtime = snakemake.config.get("runtime", {})
embed(snakemake.params.spec, snakemake.input.weights or None, snakemake.input.imageset, snakemake.output[0],
      batch_size=runtime.get("batch_size", 256), device=runtime.get("device", "auto"),
      compile_blocks=runtime.get("compile", False))
