"""Snakemake adapter: train one zoo generator with one seed, keeping checkpoints."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

import torch

from memprint.stages import start_log, train_zoo_model

start_log(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
train_zoo_model(snakemake.params.spec, snakemake.params.epochs, int(snakemake.wildcards.train_seed),
                snakemake.input.train, snakemake.output.checkpoints, snakemake.output.summary,
                snakemake.config.get("runtime", {}).get("device", "auto"))
