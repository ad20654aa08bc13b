"""Images someone already generated, read as they are: a folder of images, an ``.npz`` (``x`` or ``arr_0``) or an
image-set ``.h5`` (for instance one ``memprint published`` wrote)."""

from __future__ import annotations

from pathlib import Path

from memprint import MemprintError
from memprint.generators.base import GeneratorKind
from memprint.io import ImageSet


class Samples(GeneratorKind):
    """``samples``: a seeded (class-stratified when labelled) subset of that many images; default all."""

    kind = "samples"
    group = "existing samples"
    needs = ()
    files = ("path",)

    def read(self) -> ImageSet:
        from memprint.datasets import load_folder, load_npz
        from memprint.io import read_imageset

        path = Path(self.spec["path"])
        if path.is_dir():
            return load_folder(path)
        if path.suffix == ".npz":
            return load_npz(path)
        if path.suffix == ".h5":
            return read_imageset(path)
        raise MemprintError(
            f"generator {self.name}: samples path {path} is neither a folder, an .npz nor an image-set .h5 file"
        )

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
