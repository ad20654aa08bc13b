"""Samples of published models (``memprint.published``): their committed sample grids, pooled into one set."""

from __future__ import annotations

import dataclasses
from functools import cached_property

from memprint import MemprintError
from memprint.generators.base import GeneratorKind
from memprint.io import ImageSet

DOWNLOADS = "results/downloads/published"


class Published(GeneratorKind):
    """``published``: the ``models`` of a ``manifest`` (all when not listed), read from ``folder``
    (``<folder>/<owner>/<repository>/<path>``) or, without one, downloaded by their commit-pinned URLs."""

    kind = "published"
    group = "published models"
    needs = ()
    files = ("manifest", "folder")

    @cached_property
    def grids(self):
        from memprint.published import read_manifest

        manifest = read_manifest(self.spec["manifest"])
        names = self.spec.get("models") or list(manifest)
        unknown = [m for m in names if m not in manifest]
        if unknown:
            raise MemprintError(
                f"config error at generators.{self.name}.models: {unknown} are not in {self.spec['manifest']} "
                f"(it lists {sorted(manifest)}); fix the names"
            )
        return [manifest[m] for m in names]

    @property
    def samples(self) -> int:
        return int(self.spec.get("samples") or sum(g.images for g in self.grids))

    @property
    def family(self) -> str:
        families = sorted({g.family for g in self.grids})
        return families[0] if len(families) == 1 else "+".join(families)

    def grid_files(self) -> list[str]:
        folder = self.spec.get("folder")
        return [str(g.local(folder)) if folder else f"{DOWNLOADS}/{g.download_name()}" for g in self.grids]

    def input_files(self) -> dict[str, list[str]]:
        return {"grids": self.grid_files()}

    def downloads(self) -> dict[str, dict]:
        if self.spec.get("folder"):
            return {}
        return {f"{DOWNLOADS}/{g.download_name()}": dataclasses.asdict(g) for g in self.grids}

    def check(self, config: dict, train_size: int | None = None) -> None:
        from pathlib import Path

        from memprint.published import check_hash

        for grid, path in zip(self.grids, self.grid_files()):
            if self.spec.get("folder"):
                if not Path(path).is_file():
                    raise MemprintError(
                        f"config error at generators.{self.name}.folder: {path} not found; put model {grid.name}'s "
                        f"grid there ({grid.url}) or remove folder to download it"
                    )
                check_hash(path, grid)
        if self.spec.get("samples") and self.spec["samples"] > sum(g.images for g in self.grids):
            raise MemprintError(
                f"config error at generators.{self.name}.samples: {self.spec['samples']} asked for, the models' "
                f"grids hold {sum(g.images for g in self.grids)}; lower samples"
            )

    def sample(self, train=None, source=None, segment=None) -> ImageSet:
        from memprint.published import import_models
        from memprint.subsets import stratified_indices

        pooled = import_models(self.grids, self.grid_files(), self.name)
        if self.spec.get("samples"):
            keep = stratified_indices(pooled.labels, self.spec["samples"], self.seed, f"generator {self.name}")
            pooled = ImageSet(pooled.images[keep], pooled.labels[keep], pooled.image_ids[keep], pooled.attrs)
        pooled.attrs.update(generator_spec=self.spec, seed=self.seed)
        return pooled
