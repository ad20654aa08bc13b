"""Snakemake adapter: a torchvision classifier's pretrained weights (a local rule)."""

from memprint.runtime import job
from memprint.stages.fingerprint import fetch_classifier_weights

job(snakemake)
fetch_classifier_weights(snakemake.params.spec, snakemake.output[0])
