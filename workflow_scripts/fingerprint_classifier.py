"""Snakemake adapter: one classifier baseline (train on references, majority vote per target set)."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

import torch

from memprint.stages import fingerprint_classifier, start_log

start_log(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
names = list(snakemake.params.architectures)
fingerprint_classifier(snakemake.wildcards.classifier, snakemake.params.spec, dict(zip(names, snakemake.input.imagesets)),
                       snakemake.params.architectures, snakemake.params.runs, snakemake.params.protocol,
                       snakemake.output[0], snakemake.input.weights or None,
                       snakemake.config.get("runtime", {}).get("device", "auto"))
