#!/usr/bin/python3
"""Train a small CNN on Fashion-MNIST and export it as a committed test fixture.

    /usr/bin/python3 models/train_fashion_mnist.py [--epochs 2] [--threads 2]

Needs Debian's python3-torch, python3-onnx and dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist/*.gz). Writes, all committed (small):

    models/fashion_mnist/fashion_mnist_cnn.onnx      opset 13, input "input" [N,1,28,28] f32,
                                                     output "logits" [N,10]; BatchNormalization
                                                     kept as nodes (not folded) so importers and
                                                     the BN-folding pass see it
    models/fashion_mnist/torch_predictions.txt       "index predicted_label top2_gap" for all
                                                     10,000 test images, torch eval mode
    models/fixtures/fashion_mnist_cnn/test_data_set_0/{input_0,output_0}.pb
                                                     test images 0 and 1 (batch 2) and torch's logits

Preprocessing (see models/fashion_mnist/README.md): x = pixel/255; x = (x - 0.2860)/0.3530.
Seeded and single-process; rerunning gives the same model on the same torch build.
"""

import argparse
import gzip
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testdata_util as tu  # noqa: E402

DATA_DIR = "/usr/share/datasets/fashion-mnist"
OUT_DIR = os.path.join(tu.REPO_ROOT, "models", "fashion_mnist")
FIXTURE_DIR = os.path.join(tu.REPO_ROOT, "models", "fixtures", "fashion_mnist_cnn")
MEAN, STD = 0.2860, 0.3530
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    """Read an IDX file (gzip) into a numpy array; format: magic(0,0,dtype,ndim) dims data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load_split(prefix):
    images = read_idx(os.path.join(DATA_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
    return images, labels


def preprocess(images_u8):
    x = images_u8.astype(np.float32) / 255.0
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return x[:, None, :, :].astype(np.float32)


def build_model(torch):
    nn = torch.nn

    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True)]

    return nn.Sequential(
        *block(1, 32), nn.MaxPool2d(2),              # 28 -> 14
        *block(32, 64), nn.MaxPool2d(2),             # 14 -> 7
        *block(64, 64), nn.MaxPool2d(2),             # 7 -> 3
        nn.Flatten(),
        nn.Linear(64 * 3 * 3, 128), nn.ReLU(inplace=True),
        nn.Linear(128, 10),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch
    import onnx
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    print(f"[data] reading {DATA_DIR}")
    train_x_u8, train_y = load_split("train")
    test_x_u8, test_y = load_split("t10k")
    print(f"[data] train {train_x_u8.shape} test {test_x_u8.shape}")
    train_x = torch.from_numpy(preprocess(train_x_u8))
    train_t = torch.from_numpy(train_y.astype(np.int64))
    test_x = torch.from_numpy(preprocess(test_x_u8))

    model = build_model(torch)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"[model] {n_params} parameters ({n_params * 4 / 1024:.0f} KiB as f32)")

    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps_per_epoch = (len(train_x) + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, epochs=args.epochs,
                                                steps_per_epoch=steps_per_epoch)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(train_x), generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * args.batch:(i + 1) * args.batch]
            xb, yb = train_x[idx], train_t[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
            total += len(idx)
        print(f"[train] epoch {epoch + 1}/{args.epochs}: loss {loss_sum / total:.4f} "
              f"train acc {correct / total:.4f} ({time.time() - t0:.0f} s)")

    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(test_x[i:i + 1000]) for i in range(0, len(test_x), 1000)])
    logits_np = logits.numpy()
    pred = logits_np.argmax(1)
    acc = float((pred == test_y).mean())
    print(f"[test] accuracy {acc:.4f} on {len(test_y)} test images")

    os.makedirs(OUT_DIR, exist_ok=True)
    top2 = np.sort(logits_np, axis=1)[:, -2:]
    gap = top2[:, 1] - top2[:, 0]
    pred_path = os.path.join(OUT_DIR, "torch_predictions.txt")
    with open(pred_path, "w") as f:
        for i in range(len(pred)):
            f.write(f"{i} {int(pred[i])} {gap[i]:.6g}\n")
    print(f"[write] {pred_path} (min top2 gap {gap.min():.3g}, "
          f"{int((gap < 1e-3).sum())} images with gap < 1e-3)")

    onnx_path = os.path.join(OUT_DIR, "fashion_mnist_cnn.onnx")
    # PRESERVE on an eval-mode model exports inference BatchNormalization nodes instead of
    # folding them into the convolutions (EVAL would fold them).
    import warnings
    with warnings.catch_warnings():
        # torch warns about constant folding with PRESERVE; harmless for an eval-mode model
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(model, test_x[:1], onnx_path, opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    print(f"[write] {onnx_path} ({os.path.getsize(onnx_path)} bytes), ops: {tu.op_types(m)}")

    # Fixture: test images 0 and 1 as one batch of 2.
    fixture_inputs = [test_x[:2].numpy()]
    fixture_outputs = [logits_np[:2]]
    ins, outs = tu.graph_io_names(m)
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    link = os.path.join(FIXTURE_DIR, "model.onnx")
    target = os.path.relpath(onnx_path, FIXTURE_DIR)
    if not (os.path.islink(link) and os.readlink(link) == target):
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(target, link)
    ds = tu.write_test_data_set(FIXTURE_DIR, 0, fixture_inputs, fixture_outputs, ins, outs)
    print(f"[write] {ds}: images 0,1 labels {test_y[:2].tolist()} "
          f"predicted {pred[:2].tolist()} ({[CLASSES[p] for p in pred[:2]]})")


if __name__ == "__main__":
    main()
