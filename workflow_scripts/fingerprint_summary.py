"""Snakemake adapter: match target curves to reference curves; accuracy per method."""
import sys

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import fingerprint_summary, start_log

start_log(snakemake.log[0])
fingerprint_summary(list(snakemake.input.curves), snakemake.output.matches, snakemake.output.summary)
