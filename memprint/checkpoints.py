"""Reading torch checkpoint files safely: ``weights_only=True`` always (a file never runs code when read), and
one clear line for a file that is not a checkpoint, a pickled whole model (memprint never advises loading it
unsafely: save its ``state_dict()`` instead), or a checkpoint without the keys memprint needs."""

from __future__ import annotations

import pickle
from pathlib import Path

from memprint import MemprintError


def load_checkpoint(path: str | Path, what: str, keys: tuple[str, ...] = ()) -> object:
    """``torch.load(path, weights_only=True)``; ``keys`` must be in the (dict) payload."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise MemprintError(f"{what}: {path} not found; fix the path")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Unsupported global" not in str(err):  # garbage, not a pickled object memprint refuses to build
            raise MemprintError(
                f"{what}: {path} is not a torch checkpoint; give a file saved with torch.save"
            ) from None
        raise MemprintError(
            f"{what}: {path} holds pickled Python objects (a whole model?), which memprint does not load; save "
            "the network's weights with torch.save(model.state_dict(), path) and give that file"
        ) from None
    except Exception as err:  # torch raises RuntimeError, KeyError, EOFError ... on a file it cannot read
        raise MemprintError(
            f"{what}: {path} is not a torch checkpoint ({type(err).__name__} while reading it); give a file saved "
            "with torch.save"
        ) from None
    missing = [k for k in keys if not isinstance(payload, dict) or k not in payload]
    if missing:
        raise MemprintError(
            f"{what}: {path} lacks {', '.join(missing)}; give a checkpoint memprint wrote (or one with those keys)"
        )
    return payload


def load_into(module, state: object, path: str | Path, what: str, fix: str) -> None:
    """``module.load_state_dict(state)``, strict, with one line when the file holds something else: a bare
    tensor, a dict of other things, or another architecture's weights."""
    if not isinstance(state, dict) or not all(hasattr(value, "shape") for value in state.values()):
        held = type(state).__name__ if not isinstance(state, dict) else f"a dict of {sorted(state)[:4]}"
        raise MemprintError(f"{what}: {path} holds {held}, not a state dict of tensors; {fix}")
    expected = module.state_dict()
    differences = [
        f"{len(names)} {kind} ({', '.join(names[:2])}{' ...' if len(names) > 2 else ''})"
        for kind, names in (
            ("missing", [k for k in expected if k not in state]),
            ("unexpected", [k for k in state if k not in expected]),
            ("of another shape", [k for k in expected if k in state and state[k].shape != expected[k].shape]),
        )
        if names
    ]
    if differences:
        raise MemprintError(
            f"{what}: {path} does not fit the architecture {type(module).__name__} (keys: {'; '.join(differences)}); "
            f"{fix}"
        )
    module.load_state_dict(state, strict=True)
