"""Snakemake adapter: the per-layer C_T reference (cells and test distances)."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

import torch

from memprint.ct import CTSettings
from memprint.stages import fit_ct_reference, start_log

start_log(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
fit_ct_reference(snakemake.input.train, snakemake.input.test, CTSettings(**snakemake.params.ct), snakemake.output[0],
                 snakemake.config.get("runtime", {}).get("device", "auto"))
