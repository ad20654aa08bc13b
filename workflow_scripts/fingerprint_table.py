"""Snakemake adapter: Table 1 (accuracy with intervals, leave-one-model-out, open set, time per method)."""
import sys
from pathlib import Path

sys.path.insert(0, snakemake.scriptdir + "/..")  # the repo's memprint/, also inside --software-deployment-method conda

from memprint.stages import fingerprint_table, start_log

start_log(snakemake.log[0])
embed = {}
for path in snakemake.input.embed_benchmarks:  # results/benchmarks/embed/{encoder}/{imageset}.tsv
    embed.setdefault(Path(path).parent.name, []).append(path)
references = {Path(path).stem: path for path in snakemake.input.reference_benchmarks}
fingerprint_table(list(snakemake.input.curves), snakemake.input.statistics, list(snakemake.input.classifiers), embed,
                  references, snakemake.output.matches, snakemake.output.table, snakemake.output.markdown,
                  snakemake.output.open_set, seed=snakemake.params.seed)
