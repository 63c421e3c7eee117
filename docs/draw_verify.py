#!/usr/bin/env python3
"""Reference verifier of an expert draw (专家抽取), independent of the platform.

Usage: draw_verify.py inputs.json   (the JSON of GET /api/v1/draws/{id}/inputs)
Prints a JSON object {ok, problems, selection, order} and exits 0 if every derived value matches.
The algorithm is described in docs/draw.md. Standard library only.
"""
import hashlib
import json
import struct
import sys

MASK = 0xFFFFFFFF


def _rotl(v, c):
    return ((v << c) & MASK) | (v >> (32 - c))


def _quarter(x, a, b, c, d):
    x[a] = (x[a] + x[b]) & MASK; x[d] = _rotl(x[d] ^ x[a], 16)
    x[c] = (x[c] + x[d]) & MASK; x[b] = _rotl(x[b] ^ x[c], 12)
    x[a] = (x[a] + x[b]) & MASK; x[d] = _rotl(x[d] ^ x[a], 8)
    x[c] = (x[c] + x[d]) & MASK; x[b] = _rotl(x[b] ^ x[c], 7)


def chacha20_words(key):
    """The keystream of ChaCha20 (20 rounds) as rand_chacha's ChaCha20Rng::from_seed(key) gives
    it: 64-bit block counter from 0 (words 12-13), stream id 0 (words 14-15), each block's sixteen
    32-bit words in order, little-endian."""
    k = struct.unpack("<8I", key)
    const = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)
    counter = 0
    while True:
        state = list(const) + list(k) + [counter & MASK, counter >> 32, 0, 0]
        x = state[:]
        for _ in range(10):
            _quarter(x, 0, 4, 8, 12); _quarter(x, 1, 5, 9, 13)
            _quarter(x, 2, 6, 10, 14); _quarter(x, 3, 7, 11, 15)
            _quarter(x, 0, 5, 10, 15); _quarter(x, 1, 6, 11, 12)
            _quarter(x, 2, 7, 8, 13); _quarter(x, 3, 4, 9, 14)
        for i in range(16):
            yield (x[i] + state[i]) & MASK
        counter += 1


def gen_index(words, n):
    """rand 0.8 `gen_range(0..n)` for a u32 range (n <= 2^32): widening multiply with rejection
    zone `(n << leading_zeros(n)) - 1`, as UniformInt::<u32>::sample_single_inclusive."""
    lz = 32 - n.bit_length()
    zone = ((n << lz) - 1) & MASK
    while True:
        v = next(words)
        m = v * n
        hi, lo = m >> 32, m & MASK
        if lo <= zone:
            return hi


def order(pool, seed):
    """rand 0.8 `SliceRandom::shuffle` of the ascending pool: for i from len-1 down to 1, swap
    element i with element gen_index(i + 1)."""
    v = sorted(pool)
    words = chacha20_words(seed)
    for i in range(len(v) - 1, 0, -1):
        j = gen_index(words, i + 1)
        v[i], v[j] = v[j], v[i]
    return v


def verify(d):
    problems = []
    secret = bytes.fromhex(d["secret"])
    if hashlib.sha256(secret).hexdigest() != d["commitment"]:
        problems.append("commitment does not match the secret")
    pool = sorted(d["pool"])
    pool_hash = hashlib.sha256(",".join(str(i) for i in pool).encode()).hexdigest()
    if pool_hash != d["pool_hash"]:
        problems.append("pool hash does not match the pool")
    seed = hashlib.sha256(
        secret
        + struct.pack(">q", d["application_id"])
        + struct.pack(">q", d["attempt"])
        + pool_hash.encode()
    ).digest()
    if seed.hex() != d["seed"]:
        problems.append("seed does not match")
    full = order(pool, seed)
    selection = full[: d["size"] + len(d["declined"])]
    if "selected" in d and selection != d["selected"]:
        problems.append("selection %s differs from the recorded %s" % (selection, d["selected"]))
    return {"ok": not problems, "problems": problems, "selection": selection, "order": full}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        d = json.load(f)
    r = verify(d)
    print(json.dumps(r, ensure_ascii=False))
    sys.exit(0 if r["ok"] else 1)


if __name__ == "__main__":
    main()
