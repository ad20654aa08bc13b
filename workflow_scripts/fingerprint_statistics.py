"""Snakemake adapter: the statistics baseline (mean, std, FID to P) of every protocol set."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

import torch

from memprint.stages import fingerprint_statistics, start_log

start_log(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
names = list(snakemake.params.architectures)
encoder = None if snakemake.params.features == "inception" else snakemake.params.features
embeddings = dict(zip(["test"] + names, snakemake.input.embeddings)) if encoder else None
fingerprint_statistics(dict(zip(names, snakemake.input.imagesets)), snakemake.params.architectures,
                       snakemake.params.runs, snakemake.input.test, snakemake.params.protocol, snakemake.output[0],
                       inception=snakemake.input.get("inception"), encoder=encoder, embeddings=embeddings,
                       device=snakemake.config.get("runtime", {}).get("device", "auto"))
