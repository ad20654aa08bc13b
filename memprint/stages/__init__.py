"""One module per stage family, one function per pipeline stage: files in, files out. Snakemake's workflow
scripts (thin adapters) and the CLI call these.

Every output is written atomically and records what made it (data hashes, weights source and hash, seeds).
"""
