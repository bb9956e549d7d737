#!/usr/bin/env python3
"""Writes the hostile model files of issue #15 into a folder (never committed:
the amplifying one is 33 MB, the big-header one 100 MiB).

  make_hostile_models.py DIR

amplified.safetensors   one F16 (4096, 4096, 1, 1) tensor, 32 MiB, named by 150
                        layers: converted once per layer it would be 9.4 GiB
huge_header.safetensors a 100 MiB JSON header of nested arrays
deep_header.safetensors a 4 MiB header (within the length limit) of nested arrays
duplicate_keys.safetensors  "scale" twice in the network description
scale_2p63.safetensors  "scale": 9223372036854775808
Standard library only.
"""
import json
import os
import struct
import sys


def safetensors(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def network(layers, scale=2, extra=""):
    body = json.dumps({"name": "hostile", "scale": scale, "layers": layers})
    if extra:
        body = "{" + extra + body[1:]
    return body


def small_model(net_json: str) -> bytes:
    w = struct.pack("<4f", 0.1, 0.2, 0.3, 0.4)
    header = {"__metadata__": {"espcn.format": "1", "espcn.network": net_json},
              "w": {"dtype": "F32", "shape": [4, 1, 1, 1], "data_offsets": [0, 16]}}
    return safetensors(header, w)


def main(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    n = 4096
    layers = [{"type": "conv", "in": 1, "out": n, "kernel": 1, "weight": "first", "bias": None}]
    layers += [{"type": "conv", "in": n, "out": n, "kernel": 1, "weight": "shared", "bias": None}
               for _ in range(150)]
    layers += [{"type": "conv", "in": n, "out": 4, "kernel": 1, "weight": "last", "bias": None},
               {"type": "pixel_shuffle", "scale": 2}]
    half_one = struct.pack("<e", 0.001)
    data = bytearray()
    header = {"__metadata__": {"espcn.format": "1", "espcn.network": json.dumps(
        {"name": "amplified", "scale": 2, "layers": layers})}}
    for name, shape in (("first", [n, 1, 1, 1]), ("shared", [n, n, 1, 1]), ("last", [4, n, 1, 1])):
        count = shape[0] * shape[1]
        header[name] = {"dtype": "F16", "shape": shape,
                        "data_offsets": [len(data), len(data) + 2 * count]}
        data += half_one * count
    with open(os.path.join(out, "amplified.safetensors"), "wb") as f:
        f.write(safetensors(header, bytes(data)))

    # 100 MiB of "[[[...]]]," as the header: refused by its length.
    unit = b"[" * 40 + b"0" + b"]" * 40 + b","
    body = b'{"x":[' + unit * ((100 << 20) // len(unit)) + b'0]}'
    with open(os.path.join(out, "huge_header.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(body)) + body)
    # Just under 4 MiB: read, then refused by its nesting.
    body = b'{"x":[' + unit * (((4 << 20) - 64) // len(unit)) + b'0]}'
    with open(os.path.join(out, "deep_header.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(body)) + body)

    conv_shuffle = [{"type": "conv", "in": 1, "out": 4, "kernel": 1, "weight": "w", "bias": None},
                    {"type": "pixel_shuffle", "scale": 2}]
    with open(os.path.join(out, "duplicate_keys.safetensors"), "wb") as f:
        f.write(small_model(network(conv_shuffle, extra='"scale": 3, ')))
    with open(os.path.join(out, "scale_2p63.safetensors"), "wb") as f:
        f.write(small_model(network(conv_shuffle).replace('"scale": 2', '"scale": 9223372036854775808', 1)))
    with open(os.path.join(out, "good.safetensors"), "wb") as f:
        f.write(small_model(network(conv_shuffle)))


if __name__ == "__main__":
    main(sys.argv[1])
