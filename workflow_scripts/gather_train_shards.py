"""Snakemake adapter: T's shard embeddings joined into one chunked file."""

from memprint.runtime import job
from memprint.stages.encoders import gather_shards

job(snakemake)
gather_shards(list(snakemake.input), snakemake.output[0])
