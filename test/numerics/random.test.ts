/**
 * The three random streams are frozen (the twin's volumes, the shipped models' recipes and test seeds depend on
 * them): each is checked against an independent Python implementation of the published algorithm.
 */
import { describe, expect, it } from "vitest";
import { gaussian, gaussianAt, gaussianPairAt, Mulberry32, seededRandom, Xoshiro128StarStar } from "../../src/numerics/index.js";
import { peerPython, runPython } from "../helpers/python.js";

const PY = String.raw`
import json, math
M = 0xffffffff
def imul(a, b): return (a * b) & M
def mulberry32(state):
    s = (state + 0x6d2b79f5) & M; t = s
    t = imul(t ^ (t >> 15), t | 1)
    t ^= (t + imul(t ^ (t >> 7), t | 61)) & M
    return s, ((t ^ (t >> 14)) & M) / 4294967296
def rotl(x, k): return ((x << k) | (x >> (32 - k))) & M
def xoshiro_seed(seed):
    x = seed & M; s = []
    for _ in range(4):
        x = (x + 0x9e3779b9) & M; z = x
        z = imul(z ^ (z >> 16), 0x85ebca6b); z = imul(z ^ (z >> 13), 0xc2b2ae35); s.append((z ^ (z >> 16)) & M)
    return s
def xoshiro_next(s):
    r = imul(rotl(imul(s[1], 5), 7), 9); t = (s[1] << 9) & M
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11)
    return r
def mix32(h):
    h ^= h >> 16; h = imul(h, 0x85ebca6b); h ^= h >> 13; h = imul(h, 0xc2b2ae35); h ^= h >> 16; return h
def hash4(a, b, c=0, d=0):
    h = mix32((a ^ 0x9e3779b9) & M); h = mix32((h ^ imul(b, 0x27d4eb2f)) & M)
    h = mix32((h ^ imul(c, 0x165667b1)) & M); return mix32((h ^ imul(d, 0x9e3779b1)) & M)
def uniforms(seed, stream, index):
    lo = index & M; hi = (index // 4294967296) & M
    return (hash4(seed, stream, lo, hi) + 0.5) / 4294967296, (hash4(seed ^ 0x5bd1e995, stream, lo, hi) + 0.5) / 4294967296
out = {}
st = 42; u = []
for _ in range(5): st, x = mulberry32(st); u.append(x)
out["mulberry32_42"] = u
st = hash4(7, 2, 0x1234567); u = []
for _ in range(5): st, x = mulberry32(st); u.append(x)
out["twin_7_2"] = u
s = xoshiro_seed(5); out["xoshiro_5"] = [xoshiro_next(s) for _ in range(5)]; out["xoshiro_5_state"] = s
g = []
for idx in [0, 12345, 2**33 + 7]:
    u1, u2 = uniforms(3, 1, idx); r = math.sqrt(-2 * math.log(u1))
    g.append([r * math.cos(2 * math.pi * u2), r * math.sin(2 * math.pi * u2)])
out["gaussian_3_1"] = g
print(json.dumps(out))
`;

describe.skipIf(!peerPython())("seeded random streams against a Python implementation", () => {
  const ref = JSON.parse(runPython(PY)) as {
    mulberry32_42: number[];
    twin_7_2: number[];
    xoshiro_5: number[];
    xoshiro_5_state: number[];
    gaussian_3_1: Array<[number, number]>;
  };

  it("seededRandom is mulberry32 from the seed as state", () => {
    const r = seededRandom(42);
    expect(ref.mulberry32_42.map(() => r())).toEqual(ref.mulberry32_42);
  });

  it("the twin's placement stream is mulberry32 from hash4(seed, stream, 0x1234567)", () => {
    const g = Mulberry32.forStream(7, 2);
    expect(ref.twin_7_2.map(() => g.next())).toEqual(ref.twin_7_2);
  });

  it("Xoshiro128StarStar is xoshiro128** with the splitmix-style seeding; its state resumes the stream", () => {
    const g = new Xoshiro128StarStar(5);
    expect(ref.xoshiro_5.map(() => g.nextU32())).toEqual(ref.xoshiro_5);
    expect(g.state).toEqual(ref.xoshiro_5_state);
    const a = new Xoshiro128StarStar(5);
    a.nextU32();
    const b = new Xoshiro128StarStar(a.state);
    expect([a.next(), a.next()]).toEqual([b.next(), b.next()]);
  });

  it("per-voxel noise: gaussianAt is the cos branch of gaussianPairAt, beyond 2^32 voxels too", () => {
    const out = new Float64Array(2);
    [0, 12345, 2 ** 33 + 7].forEach((idx, k) => {
      const [c, s] = ref.gaussian_3_1[k]!;
      gaussianPairAt(3, 1, idx, out);
      expect(out[0]).toBeCloseTo(c, 14);
      expect(out[1]).toBeCloseTo(s, 14);
      expect(gaussianAt(3, 1, idx)).toBe(out[0]);
    });
  });
});

describe("normal deviates", () => {
  it("gaussian and Mulberry32.normal have mean 0 and variance 1 (4 sigma bounds over 20000 draws)", () => {
    const r = seededRandom(3);
    const g = new Mulberry32(3);
    for (const draw of [() => gaussian(r), () => g.normal()]) {
      const n = 20000;
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const x = draw();
        s += x;
        s2 += x * x;
      }
      expect(Math.abs(s / n)).toBeLessThan(4 / Math.sqrt(n));
      expect(Math.abs(s2 / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    }
  });
});
