"""Snakemake adapter: download one published model's sample grid (commit-pinned URL, hash checked)."""

from memprint.published import GridFile, download
from memprint.runtime import job

job(snakemake)
download(GridFile(**snakemake.params.grid), snakemake.output[0])
