"""The claims table (every claim of the paper with a computed verdict under every C_T setting) and the
publication of a run's tables and figures to a committed folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from memprint.io import atomic_path, read_csv, read_csv_provenance, write_csv


def claims(
    curve_files: dict[str, dict[str, dict[str, str]]],
    specs: dict[str, dict],
    baselines: list[str],
    fingerprint_files: dict[str, list[str]],
    statistics_file: str | None,
    seed: int,
    csv_out: str,
    markdown_out: str,
) -> pd.DataFrame:
    """The claims table: ``curve_files`` maps each C_T setting to generator -> {curve, replicates} files,
    ``fingerprint_files`` each setting to its fingerprint curve files (empty without a fingerprint protocol);
    the shift claims are tested against each of ``baselines``."""
    import h5py

    from memprint.claims import Curve, Role
    from memprint.claims_table import claims_markdown, claims_table, known_answer_checks, known_answer_markdown
    from memprint.generators import generator

    roles = {name: Role.of(generator(name, spec)) for name, spec in specs.items()}
    statistics = read_csv(statistics_file) if statistics_file else None
    tables, checks = [], []
    for setting, generators in curve_files.items():
        curves, tables_of = {}, {}
        for name, files in generators.items():
            with h5py.File(files["replicates"], "r", locking=False) as f:
                replicates = f["value"][()]
            tables_of[name] = read_csv(files["curve"])
            curves[name] = Curve(tables_of[name]["value"].to_numpy(float), replicates)
        described = read_csv_provenance(next(iter(generators.values()))["curve"])["settings"]
        label = f"{setting} ({described['cells']} cells, PCA {described['pca_dim']}, {described['distance']})"
        checks.append(known_answer_checks(tables_of, roles).assign(setting=label))
        fingerprints = (
            pd.concat([read_csv(p) for p in fingerprint_files[setting]], ignore_index=True)
            if fingerprint_files.get(setting)
            else None
        )
        table = claims_table(curves, roles, baselines, fingerprints, statistics, seed)
        tables.append(table.assign(setting=label))
    table = pd.concat(tables, ignore_index=True)
    meta = {
        "baselines": baselines,
        "seed": seed,
        "curve_files": curve_files,
        "statistics": statistics_file,
        "verdicts": "confirmed: 95% interval on the claimed side of 0; contradicted: on the other side; else "
        "inconclusive",
    }
    write_csv(table, csv_out, meta)
    known = pd.concat(checks, ignore_index=True)
    text = claims_markdown(table)
    if not known.empty:  # a copier or a perfect generator: the method checked where the answer is known
        text += "\nGenerators whose answer is known:\n\n" + known_answer_markdown(known)
    with atomic_path(markdown_out) as tmp:
        Path(tmp).write_text(text)
    return table


def publish_results(
    files: dict[str, str],
    curve_tables: dict[str, dict[str, str]],
    benchmark_folder: str,
    folder: str,
    summary_out: str,
    copy_tables: dict[str, list[str]],
) -> None:
    """Copy a run's tables and PNG figures to ``folder`` (committed documentation), write its C_T tables
    (``curve_tables``: file name -> generator -> curve file) and a timing table per stage: every job's benchmark
    file under ``benchmark_folder``, summed per rule; ``copy_tables``: file name -> [kind, CSV] Markdown summaries of
    the copy finder (kind ``copy_rates`` or ``copies_validation``)."""
    import shutil

    from memprint.docs import copies_validation_table, copy_rates_table, ct_table

    summaries = {"copy_rates": copy_rates_table, "copies_validation": copies_validation_table}
    for name, (kind, path) in copy_tables.items():
        with atomic_path(Path(folder) / name) as tmp:
            Path(tmp).write_text(summaries[kind](path))

    for name, path in files.items():
        with atomic_path(Path(folder) / name) as tmp:
            shutil.copyfile(path, tmp)
    for name, curve_files in curve_tables.items():
        with atomic_path(Path(folder) / name) as tmp:
            Path(tmp).write_text(ct_table(curve_files))
    seconds: dict[str, list[float]] = {}
    for path in sorted(Path(benchmark_folder).rglob("*.tsv")):
        rule = path.relative_to(benchmark_folder).parts[0].removesuffix(".tsv")
        seconds.setdefault(rule, []).append(_benchmark_seconds(path))
    lines = ["| stage (rule) | jobs | seconds, all jobs | seconds, largest job |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {rule} | {len(v)} | {sum(v):.0f} | {max(v):.0f} |"
        for rule, v in sorted(seconds.items(), key=lambda kv: -sum(kv[1]))
    ]
    total = sum(sum(v) for v in seconds.values())
    lines.append(f"| all | {sum(len(v) for v in seconds.values())} | {total:.0f} | |")
    with atomic_path(summary_out) as tmp:
        Path(tmp).write_text(
            "Job times from the run's benchmark files (process start-up included; jobs run side by "
            "side where cores allow, so the run's wall time is less than the total).\n\n" + "\n".join(lines) + "\n"
        )


def _benchmark_seconds(path: str | Path) -> float:
    return float(pd.read_csv(path, sep="\t")["s"].sum())
