"""Snakemake adapter: train the weakly supervised segmenter and measure its masks."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

import torch

from memprint.stages import start_log, train_segmenter

start_log(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
train_segmenter(snakemake.params.spec, snakemake.input.train, snakemake.input.test, snakemake.output.model,
                snakemake.output.quality, snakemake.config.get("runtime", {}).get("device", "auto"))
