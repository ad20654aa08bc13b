"""Encoders: one hooked forward pass gives every layer, equal to running the blocks one at a time."""

import numpy as np
import pytest
import torch

from memprint import MemprintError
from memprint.embedding_files import read_embeddings
from memprint.encoders import Encoder, load_encoder, save_weights
from memprint.io import ImageSet, write_imageset
from memprint.stages.encoders import embed

TINY = {
    "kind": "trained_vit",
    "image_size": 16,
    "patch": 4,
    "width": 32,
    "depth": 3,
    "heads": 2,
    "epochs": 1,
    "lr": 1e-3,
    "batch_size": 8,
    "seed": 0,
}


@pytest.fixture
def tiny_weights(tmp_path):
    model = Encoder.kinds["trained_vit"].build(TINY)
    path = tmp_path / "w.pt"
    save_weights(path, model.state_dict(), "test: random tiny ViT")
    return path


def images(rng, n=12, size=8, c=1):
    return rng.integers(0, 256, (n, size, size, c), dtype=np.uint8)


def block_by_block(encoder, batch):
    """Reference: each block's output computed by calling the blocks one after another (no hooks)."""
    model = encoder.model
    x = model.tokens(encoder.preprocess(batch))
    outs = [x[:, model.num_prefix_tokens :].mean(1)]
    for block in model.blocks:
        x = block(x)
        outs.append(x[:, 0])
    return outs


def test_one_pass_equals_block_by_block(tiny_weights, rng):
    encoder = load_encoder(TINY, tiny_weights)
    batch = torch.from_numpy(images(rng))
    hooked = encoder.layer_embeddings(batch)
    with torch.no_grad():
        reference = block_by_block(encoder, batch)
    assert encoder.layer_names == ["patch_embed", "blocks.00", "blocks.01", "blocks.02"]
    for a, b in zip(hooked, reference):
        torch.testing.assert_close(a, b)
    assert (
        encoder.identity["weights_source"] == "test: random tiny ViT" and len(encoder.identity["weights_sha256"]) == 64
    )


def test_embed_stage_is_batch_size_independent_and_records_provenance(tiny_weights, rng, tmp_path):
    write_imageset(
        tmp_path / "set.h5", ImageSet(images(rng, 50), np.zeros(50), np.arange(50).astype(str).astype(object), {})
    )
    embed(TINY, str(tiny_weights), str(tmp_path / "set.h5"), str(tmp_path / "a.h5"), batch_size=7, progress=False)
    embed(TINY, str(tiny_weights), str(tmp_path / "set.h5"), str(tmp_path / "b.h5"), batch_size=50, progress=False)
    a, b = read_embeddings(tmp_path / "a.h5"), read_embeddings(tmp_path / "b.h5")
    for x, y in zip(a.layers, b.layers):
        np.testing.assert_allclose(x, y, atol=2e-3)
    assert a.attrs["weights_source"] == "test: random tiny ViT" and a.attrs["pooling"] == "cls"
    assert len(a.attrs["imageset_sha256"]) == 64 and "input_size" in a.attrs["preprocess"]


def test_four_shards_gathered_equal_one_embedding_job(tiny_weights, rng, tmp_path):
    from memprint.stages.encoders import gather_shards

    write_imageset(
        tmp_path / "set.h5", ImageSet(images(rng, 50), np.zeros(50), np.arange(50).astype(str).astype(object), {})
    )
    args = (TINY, str(tiny_weights), str(tmp_path / "set.h5"))
    embed(*args, str(tmp_path / "whole.h5"), batch_size=8, progress=False)
    shards = [str(tmp_path / f"shard{i}.h5") for i in range(4)]
    for i, path in enumerate(shards):
        embed(*args, path, batch_size=8, progress=False, shard=(i, 4))
    assert [len(read_embeddings(p).image_ids) for p in shards] == [12, 13, 12, 13]
    gather_shards(shards, str(tmp_path / "gathered.h5"))
    whole, gathered = read_embeddings(tmp_path / "whole.h5"), read_embeddings(tmp_path / "gathered.h5")
    assert list(whole.image_ids) == list(gathered.image_ids) and whole.layer_names == gathered.layer_names
    for x, y in zip(whole.layers, gathered.layers):
        np.testing.assert_allclose(x, y, atol=2e-3)  # batches fall differently: float rounding, as a batch size
    assert gathered.attrs["imageset_sha256"] == whole.attrs["imageset_sha256"]
    with pytest.raises(MemprintError, match="is not shard 1 of 4 of this embedding"):
        gather_shards([shards[0], str(tmp_path / "whole.h5"), *shards[2:]], str(tmp_path / "bad.h5"))


def test_compiled_blocks_give_the_same_embeddings(tiny_weights, rng, tmp_path):
    """torch.compile of the blocks (runtime.compile) leaves the hooks outside the compiled code: same layers."""
    write_imageset(
        tmp_path / "set.h5", ImageSet(images(rng, 20), np.zeros(20), np.arange(20).astype(str).astype(object), {})
    )
    embed(TINY, str(tiny_weights), str(tmp_path / "set.h5"), str(tmp_path / "eager.h5"), batch_size=10, progress=False)
    from torch._dynamo.utils import counters

    counters.clear()
    embed(
        TINY,
        str(tiny_weights),
        str(tmp_path / "set.h5"),
        str(tmp_path / "compiled.h5"),
        batch_size=10,
        progress=False,
        compile_blocks=True,
    )
    assert counters["stats"]["unique_graphs"] >= 1  # the blocks really ran compiled
    eager, compiled = read_embeddings(tmp_path / "eager.h5"), read_embeddings(tmp_path / "compiled.h5")
    assert compiled.layer_names == eager.layer_names
    for x, y in zip(eager.layers, compiled.layers):
        np.testing.assert_allclose(x, y, atol=2e-3)


def test_mean_pooling_differs_from_cls(tiny_weights, rng):
    batch = torch.from_numpy(images(rng))
    cls_layers = load_encoder(TINY, tiny_weights).layer_embeddings(batch)
    mean_layers = load_encoder({**TINY, "pooling": "mean"}, tiny_weights).layer_embeddings(batch)
    torch.testing.assert_close(cls_layers[0], mean_layers[0])  # layer 0 is always the patch-token mean
    assert not torch.allclose(cls_layers[-1], mean_layers[-1])


def test_weights_that_do_not_fit_are_named(tiny_weights):
    with pytest.raises(MemprintError, match="does not fit the architecture"):
        load_encoder({**TINY, "width": 48}, tiny_weights)


def test_random_weights_only_when_asked(rng):
    spec = {"kind": "timm", "name": "vit_tiny_patch16_224", "weights": "pretrained"}
    with pytest.raises(MemprintError, match="weights: random"):
        load_encoder(spec, None)
    with pytest.warns(UserWarning, match="RANDOM"):
        encoder = load_encoder({**spec, "weights": "random"}, None)
    assert encoder.identity["weights_source"] == "random init"
    layers = encoder.layer_embeddings(torch.from_numpy(images(rng, 2, 32, 3)))
    assert len(layers) == 13 and layers[5].shape == (2, 192)


def test_open_clip_visual_tower_random_init(rng):
    with pytest.warns(UserWarning, match="RANDOM"):
        encoder = load_encoder({"kind": "open_clip", "name": "ViT-B-32", "weights": "random"}, None)
    layers = encoder.layer_embeddings(torch.from_numpy(images(rng, 2, 32, 3)))
    assert len(layers) == 13 and layers[-1].shape == (2, 768)
    assert encoder.preprocess.input_size == 224


def test_unknown_encoder_and_model_names_are_named():
    with pytest.raises(MemprintError, match="kind 'keras'"):
        load_encoder({"kind": "keras"}, None)
    with pytest.raises(MemprintError, match="no model 'vit_nonexistent'"):
        load_encoder({"kind": "timm", "name": "vit_nonexistent", "weights": "random"}, None)


def test_hugging_face_local_folder_with_any_weights_file_name(tmp_path, rng):
    from transformers import ViTConfig, ViTModel

    model = ViTModel(
        ViTConfig(
            hidden_size=32,
            num_hidden_layers=3,
            num_attention_heads=2,
            intermediate_size=64,
            image_size=32,
            patch_size=8,
        ),
        add_pooling_layer=False,
    ).eval()
    model.save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").rename(tmp_path / "my_finetune_fp32.safetensors")
    spec = {"kind": "hf", "name": str(tmp_path), "weights": str(tmp_path)}
    encoder = load_encoder(spec, tmp_path)
    batch = torch.from_numpy(images(rng, 4, 32, 3))
    layers = encoder.layer_embeddings(batch)
    with torch.no_grad():
        hidden = model(pixel_values=encoder.preprocess(batch), output_hidden_states=True).hidden_states
    assert len(layers) == 4 and encoder.layer_names[0] == "patch_embed"
    torch.testing.assert_close(layers[0], hidden[0][:, 1:].mean(1))
    torch.testing.assert_close(layers[2], hidden[2][:, 0])
    assert encoder.identity["weights_source"] == f"file:{tmp_path.resolve()}"
    (tmp_path / "extra.safetensors").write_bytes(b"")
    with pytest.raises(MemprintError, match="one weights file"):
        load_encoder(spec, tmp_path)


def test_torchvision_cnn_stages_are_pooled_in_one_pass(rng):
    with pytest.warns(UserWarning, match="RANDOM"):
        encoder = load_encoder({"kind": "torchvision_cnn", "name": "resnet18", "weights": "random"}, None)
    layers = encoder.layer_embeddings(torch.from_numpy(images(rng, 2, 32, 3)))
    assert encoder.layer_names == ["maxpool", "layer1", "layer2", "layer3", "layer4"]
    assert [t.shape[1] for t in layers] == [64, 64, 128, 256, 512] and encoder.preprocess.input_size == 224
    with pytest.raises(MemprintError, match="no model 'resnet_nonexistent'"):
        load_encoder({"kind": "torchvision_cnn", "name": "resnet_nonexistent", "weights": "random"}, None)
