"""The copy finder's image-level statistic (``copies.statistic``): evidence summed where the signal is.

Natural copies (the same scene re-cropped, shifted, re-coloured) show at many middle and late layers at once and
in the pixels once aligned, but seldom at one layer by a wide margin; the smallest distance over every layer and
transform (``smallest``) is dominated by the chance minima of the uninformative views. ``evidence`` instead adds:

* per layer (by default the middle to the second-to-last block) and matching, SSCD's score normalization: the log
  of the cosine distance to the nearest training image over the distance to the k-th nearest (a copy is much
  nearer its source than its other neighbours; a plain image in a dense region is not), as a robust z-score
  against P's values (median and MAD), averaged over the layers, the largest over the matchings;
* a verification: the high-pass pixel correlation of the image (and its mirror) with each candidate source (the
  nearest few training images of every layer and in pixels), the best over translations of up to ``shift``
  pixels, as a robust z-score against P's, times ``weight``.

The sum is calibrated on P like any statistic computed the same way for P and Q: its p-value is its rank among
P's, so the family-wise level holds whatever the layers' dependence (the z-scores' medians and MADs are P's own,
an O(1/|P|) asymmetry). The layers, k, the candidates, the shift and the weight were chosen on the even half of
the ciFAIR near-duplicates of CIFAR-10 (``configs/natural_copies.yaml``), never on the odd half it reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from memprint import MemprintError

MAD_TO_SIGMA = 1.4826


@dataclass
class Evidence:
    """Per image of Q (``q_*``) and P (``p_statistic``): the statistic (larger: more copy-like), Q's best aligned
    pixel correlation, and the training row named as its source."""

    q_statistic: np.ndarray
    p_statistic: np.ndarray
    q_correlation: np.ndarray
    q_match: np.ndarray

    def image_p(self) -> np.ndarray:
        """(1 + #{P >= q}) / (1 + |P|): the conformal p-value of each Q image's statistic among P's."""
        null = np.sort(self.p_statistic)
        return (1 + len(null) - np.searchsorted(null, self.q_statistic, "left")) / (1 + len(null))


def default_layers(layer_names: list[str]) -> list[str]:
    """The middle to the second-to-last block (indices L/2 .. L-1 of 0 = patch embedding .. L = last block); the
    last block alone where the encoder has fewer than two."""
    last = len(layer_names) - 1
    return [layer_names[k] for k in range(max(1, last // 2), last)] or [layer_names[last]]


def robust_z(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(values - median(reference)) / (1.4826 MAD(reference)): standard units of P's spread, outliers ignored."""
    centre = float(np.median(reference))
    spread = MAD_TO_SIGMA * float(np.median(np.abs(reference - centre)))
    return (values - centre) / max(spread, 1e-12)


def _unit(x: np.ndarray):
    import torch

    return torch.nn.functional.normalize(torch.from_numpy(np.ascontiguousarray(x, np.float32)), dim=1)


def neighbour_ratio(train: np.ndarray, queries: np.ndarray, k: int, block: int = 2048):
    """Per query: log(d_1 / d_k) of the cosine distances to its nearest and k-th nearest training rows, and the
    indices of the nearest ``k`` (exact search, in blocks of queries)."""
    import torch

    t = _unit(train)
    k = min(k, len(t))
    ratios, rows = [], []
    for start in range(0, len(queries), block):
        sim, index = (_unit(queries[start : start + block]) @ t.T).topk(k, dim=1)
        dist = (1 - sim).clamp(min=1e-12).double()
        ratios.append(torch.log(dist[:, 0] / dist[:, -1]).numpy())
        rows.append(index.numpy())
    return np.concatenate(ratios), np.concatenate(rows)


def thumbnails(images: np.ndarray, side: int):
    """(N, C, side, side) float tensor in [0, 1] from NHWC uint8 images."""
    import torch.nn.functional as F

    x = _nchw(images)
    if x.shape[-2:] != (side, side):
        x = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
    return x


def _nchw(images: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(255)


def highpass(x, sigma: float):
    """``x`` minus its Gaussian blur: the structure of an image without its colour cast or illumination."""
    import torch
    import torch.nn.functional as F

    radius = max(1, int(3 * sigma))
    kernel = torch.exp(-(torch.arange(-radius, radius + 1).float() ** 2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    channels = x.shape[1]
    blurred = F.conv2d(
        F.pad(x, (radius, radius, 0, 0), mode="reflect"),
        kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1),
        groups=channels,
    )
    blurred = F.conv2d(
        F.pad(blurred, (0, 0, radius, radius), mode="reflect"),
        kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1),
        groups=channels,
    )
    return x - blurred


def aligned_correlation(a, b, shift: int, margin: int):
    """Pearson correlation of each pair of rows of ``a`` and ``b`` (N, C, S, S), the best over translations of up
    to ``shift`` pixels, compared inside a frame ``margin`` pixels from the border."""
    import torch

    side = a.shape[-1]
    best = torch.full((len(a),), -1.0)

    def window(offset: int) -> tuple[slice, slice]:
        if offset >= 0:
            return slice(offset + margin, side - margin), slice(margin, side - offset - margin)
        return slice(margin, side + offset - margin), slice(-offset + margin, side - margin)

    for dy in range(-shift, shift + 1):
        for dx in range(-shift, shift + 1):
            (ya, yb), (xa, xb) = window(dy), window(dx)
            pa, pb = a[:, :, ya, xa].flatten(1), b[:, :, yb, xb].flatten(1)
            pa, pb = pa - pa.mean(1, keepdim=True), pb - pb.mean(1, keepdim=True)
            best = torch.maximum(best, (pa * pb).sum(1) / (pa.norm(dim=1) * pb.norm(dim=1) + 1e-6))
    return best


def pixel_nearest(train, queries, count: int, block: int = 1024) -> np.ndarray:
    """Indices of each query thumbnail's ``count`` nearest training thumbnails in pixel L2 (exact)."""

    t = train.flatten(1)
    t_sq = (t * t).sum(1)
    out = []
    for start in range(0, len(queries), block):
        q = queries[start : start + block].flatten(1)
        squared = (q * q).sum(1, keepdim=True) + t_sq[None] - 2 * q @ t.T
        out.append(squared.topk(min(count, len(t)), dim=1, largest=False).indices.numpy())
    return np.concatenate(out)


def verify(queries, train, candidates: np.ndarray, settings: dict, block: int = 4096):
    """Per query: the best aligned high-pass correlation with any of its candidate training images (as it is or
    mirrored) and that candidate's row. Each distinct (query, candidate) pair is compared once."""
    import torch

    pairs = np.unique(np.repeat(np.arange(len(candidates)), candidates.shape[1]) * len(train) + candidates.ravel())
    rows, cands = pairs // len(train), pairs % len(train)
    score = np.empty(len(pairs), np.float32)
    for start in range(0, len(pairs), block):
        q = highpass(queries[rows[start : start + block]], settings["sigma"])
        t = highpass(train[cands[start : start + block]], settings["sigma"])
        shift, margin = settings["shift"], settings["margin"]
        score[start : start + block] = torch.maximum(
            aligned_correlation(q, t, shift, margin), aligned_correlation(q.flip(-1), t, shift, margin)
        ).numpy()
    best = np.full(len(candidates), -1.0)
    match = np.zeros(len(candidates), np.int64)
    order = np.lexsort((score, rows))  # by query, then score: each query's last entry is its best
    last = np.r_[rows[order][1:] != rows[order][:-1], True]
    best[rows[order][last]], match[rows[order][last]] = score[order][last], cands[order][last]
    return best, match


def evidence(views, train_images: np.ndarray, q_images: np.ndarray, p_images: np.ndarray, settings: dict) -> Evidence:
    """The statistic for Q and P. ``views`` yields (matching label, T's layer under the matching, Q's, P's) for
    each matching and chosen layer; the images are the sets' pixels (T's as they are)."""
    k, count = settings["neighbour"], settings["candidates"]
    sums_q, sums_p, layers = {}, {}, {}
    cand_q, cand_p = [], []
    view_z, view_nearest = [], []  # per view: Q's z-score and nearest training row
    for label, train, q, p in views:
        ratio_q, rows_q = neighbour_ratio(train, q, k)
        ratio_p, rows_p = neighbour_ratio(train, p, k)
        z_q = -robust_z(ratio_q, ratio_p)  # a small ratio: a copy
        sums_q[label] = sums_q.get(label, 0.0) + z_q
        sums_p[label] = sums_p.get(label, 0.0) - robust_z(ratio_p, ratio_p)
        layers[label] = layers.get(label, 0) + 1
        cand_q.append(rows_q[:, :count])
        cand_p.append(rows_p[:, :count])
        view_z.append(z_q)
        view_nearest.append(rows_q[:, 0])
    strongest_row = np.take_along_axis(np.stack(view_nearest), np.argmax(view_z, axis=0)[None], axis=0)[0]
    embedding_q = np.max([sums_q[t] / layers[t] for t in sums_q], axis=0)
    embedding_p = np.max([sums_p[t] / layers[t] for t in sums_p], axis=0)
    side = settings["side"]
    train_t, q_t, p_t = (thumbnails(x, side) for x in (train_images, q_images, p_images))
    cand_q.append(pixel_nearest(train_t, q_t, count))
    cand_p.append(pixel_nearest(train_t, p_t, count))
    corr_q, match_q = verify(q_t, train_t, np.concatenate(cand_q, axis=1), settings)
    corr_p, _ = verify(p_t, train_t, np.concatenate(cand_p, axis=1), settings)
    weight = settings["weight"]
    verified = weight * robust_z(corr_q, corr_p)
    # the source named: the candidate that verified, where the pixels carry the evidence; else (an edit the pixel
    # check cannot align, a crop or a turn met on the training side) the nearest image of the strongest view
    source = np.where(verified >= embedding_q, match_q, strongest_row)
    return Evidence(
        q_statistic=embedding_q + verified,
        p_statistic=embedding_p + weight * robust_z(corr_p, corr_p),
        q_correlation=corr_q,
        q_match=source,
    )


def statistic_layers(statistic: dict, layer_names: list[str]) -> list[str]:
    """The layers ``copies.statistic`` averages: its ``layers``, else ``default_layers``."""
    return statistic.get("layers") or default_layers(layer_names)


def matching_views(layer_names, chosen, train_layers, train_edited: dict, generated: dict, test: dict, test_plain):
    """(label, T, Q, P) per matching and chosen layer: a training-side matching meets T under its edit with Q and
    P as they are; a query-side one T as it is with Q and P under its edit (``test[label]`` None: P as it is).
    The names are checked at once; the arrays are read view by view, so a large T's layers are never all in memory."""
    missing = [name for name in chosen if name not in layer_names]
    if missing:
        raise MemprintError(
            f"copies.statistic.layers: {', '.join(missing)} not among the encoder's layers ({', '.join(layer_names)})"
        )

    def view(label: str, k: int):
        train = train_edited[label][k] if label in train_edited else train_layers[k]
        p = test[label][k] if test.get(label) is not None else test_plain[k]
        return label, np.asarray(train, np.float32), np.asarray(generated[label][k], np.float32), np.asarray(p)

    return (view(label, layer_names.index(name)) for label in generated for name in chosen)


def evidence_views(statistic: dict, layer_names: list[str], *sources):
    """The views ``copies.statistic`` reads (``matching_views``'s ``sources``): none for ``smallest``."""
    if statistic["kind"] != "evidence":
        return ()
    return matching_views(layer_names, statistic_layers(statistic, layer_names), *sources)


def image_level(found, settings: dict, views, train_images, q_images, p_images):
    """The image-level p-value of every Q image under ``copies.statistic`` (and the Evidence, or None for
    ``smallest``, whose views are not searched again)."""
    from memprint.copies import calibrated, smallest

    if settings["kind"] == "smallest":
        return calibrated(smallest(found.scaled), found.null), None
    found_evidence = evidence(views, train_images, q_images, p_images, settings)
    return found_evidence.image_p(), found_evidence
