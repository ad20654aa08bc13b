"""Images someone already generated, read as they are: a folder of images or an ``.npz`` (``x`` or ``arr_0``)."""

from __future__ import annotations

from pathlib import Path

from memprint import MemprintError
from memprint.generators.base import GeneratorKind
from memprint.io import ImageSet


class Samples(GeneratorKind):
    """``samples``: a seeded (class-stratified when labelled) subset of that many images; default all."""

    kind = "samples"
    models_data = True
    needs = ()
    files = ("path",)

    def read(self) -> ImageSet:
        from memprint.datasets import load_folder, load_npz

        path = Path(self.spec["path"])
        if path.is_dir():
            return load_folder(path)
        if path.suffix == ".npz":
            return load_npz(path)
        raise MemprintError(f"generator {self.name}: samples path {path} is neither a folder nor an .npz file")

    def sample(self, train=None, source=None, segment=None) -> ImageSet:
        from memprint.subsets import stratified_indices

        imageset, path = self.read(), Path(self.spec["path"])
        wanted = self.samples
        if wanted and wanted > len(imageset):
            raise MemprintError(
                f"generator {self.name}: {wanted} samples asked for, {path} holds {len(imageset)}; "
                "lower samples or add images"
            )
        keep = stratified_indices(imageset.labels, wanted or len(imageset), self.seed, f"generator {self.name}")
        attrs = {
            "source": f"samples:{path.resolve()}",
            "generator": self.name,
            "generator_spec": self.spec,
            "weights_used": "none (existing samples)",
        }
        return ImageSet(imageset.images[keep], imageset.labels[keep], imageset.image_ids[keep], attrs)
