"""Snakemake adapter: the generator summary table (training time, sampling speed, FID)."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

import torch

from memprint.stages import generator_summary, start_log

start_log(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
generator_summary(snakemake.params.specs, list(snakemake.input.imagesets), snakemake.input.test,
                  list(snakemake.input.training), snakemake.params.inception, snakemake.output[0],
                  snakemake.config.get("runtime", {}).get("device", "auto"))
