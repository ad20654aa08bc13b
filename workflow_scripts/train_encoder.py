"""Snakemake adapter: train the pipeline's own ViT encoder."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

import torch

from memprint.stages import start_log, train_encoder

start_log(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
train_encoder(snakemake.params.spec, snakemake.input.train, snakemake.input.test, snakemake.output.weights,
              snakemake.output.summary, snakemake.config.get("runtime", {}).get("device", "auto"))
