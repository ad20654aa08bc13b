"""Snakemake adapter: gather one diffusion model's InvMM shards."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import invmm_table, start_log

start_log(snakemake.log[0])
invmm_table(list(snakemake.input), snakemake.output[0])
