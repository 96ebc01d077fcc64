// Native float32 kernels for TF.js's cpu backend (see ../README.md): 3D convolutions (stride-1 "same" with odd
// kernels, and "valid" with kernel == stride, as in the U-Net's up/down steps) and their input and filter gradients,
// as register-blocked GEMMs over the channels-last layout, split across threads. No BLAS: only a C++17 compiler.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#define SSB_HAVE_AVX2_PATH 1
namespace avx2 {
constexpr int VL = 8;
typedef float vec __attribute__((vector_size(32)));
typedef float vecu __attribute__((vector_size(32), aligned(4)));  // unaligned loads and stores
#define KFN __attribute__((target("avx2,fma")))
#include "gemm.inc"
#undef KFN
}  // namespace avx2
#endif
namespace base {
constexpr int VL = 8;
typedef float vec __attribute__((vector_size(32)));
typedef float vecu __attribute__((vector_size(32), aligned(4)));
#define KFN
#include "gemm.inc"
#undef KFN
}  // namespace base

// 0: baseline build, 1: AVX2+FMA; at most what the CPU has. (An AVX-512 build of the same kernels, 16 lanes and
// 12 x 32 tiles, was measured no faster on the project machines: 74-105 vs 72-97 GFLOP/s per core, so it is not
// kept; gemm.inc takes any VL.)
static int simdLevel = 0;
static int cpuLevel = 0;
static bool useAvx2 = false;
static int nThreads = 1;

// Splits [0, n) into nThreads contiguous ranges; the calling thread takes the first one. Below `flops` of about
// 4 M multiply-adds (some 40 us on one core) one thread does it all: starting and joining a thread costs 30-150 us.
static void parallelFor(long n, const std::function<void(int, long, long)>& fn, double flops = 1e300) {
  const int t = flops < 4e6 ? 1 : (int)std::max<long>(1, std::min<long>(nThreads, n));
  if (t == 1) {
    fn(0, 0, n);
    return;
  }
  std::vector<std::thread> pool;
  for (int i = 1; i < t; i++) pool.emplace_back(fn, i, n * i / t, n * (i + 1) / t);
  fn(0, 0, n / t);
  for (auto& th : pool) th.join();
}

// ---- N-API plumbing ----
struct Args {
  napi_env env;
  napi_value v[16];
  size_t n = 16;
  bool ok = true;
};

static void fail(napi_env env, const char* msg) { napi_throw_error(env, "SSB_CT_NATIVE", msg); }

static float* f32(Args& a, int i, size_t need) {
  napi_typedarray_type type;
  size_t len;
  void* data;
  napi_value buf;
  size_t off;
  if (!a.ok) return nullptr;
  if (napi_get_typedarray_info(a.env, a.v[i], &type, &len, &data, &buf, &off) != napi_ok || type != napi_float32_array) {
    fail(a.env, ("argument " + std::to_string(i) + " must be a Float32Array").c_str());
    a.ok = false;
    return nullptr;
  }
  if (len < need) {
    fail(a.env, ("argument " + std::to_string(i) + " is too short: " + std::to_string(len) + " < " + std::to_string(need)).c_str());
    a.ok = false;
    return nullptr;
  }
  return static_cast<float*>(data);
}

static int i32(Args& a, int i) {
  int32_t v = 0;
  if (a.ok && napi_get_value_int32(a.env, a.v[i], &v) != napi_ok) {
    fail(a.env, "expected an integer argument");
    a.ok = false;
  }
  return v;
}

static bool getArgs(napi_env env, napi_callback_info info, Args& a, size_t want) {
  a.env = env;
  napi_get_cb_info(env, info, &a.n, a.v, nullptr, nullptr);
  if (a.n < want) {
    fail(env, ("expected " + std::to_string(want) + " arguments").c_str());
    return false;
  }
  return true;
}

static int padTo(int c, int lanes) { return (c + lanes - 1) / lanes * lanes; }
// The GEMM build for a call with this many output columns, and its vector width.
static int gemmLevel(int) { return simdLevel; }
static int lanesOf(int) { return 8; }

// Copies x (N, D, H, W, C) into a zero border of p voxels on each side of the three spatial axes.
static std::vector<float> padVolume(const float* x, int N, int D, int H, int W, int C, int p) {
  const int Dp = D + 2 * p, Hp = H + 2 * p, Wp = W + 2 * p;
  std::vector<float> out((size_t)N * Dp * Hp * Wp * C, 0.0f);
  parallelFor((long)N * D * H, [&](int, long r0, long r1) {
    for (long row = r0; row < r1; row++) {
      const long n = row / ((long)D * H), z = (row / H) % D, r = row % H;
      std::memcpy(&out[((((size_t)n * Dp + z + p) * Hp + r + p) * Wp + p) * C], x + (size_t)row * W * C, sizeof(float) * W * C);
    }
  }, (double)N * D * H * W * C);  // a copy: worth a second thread only beyond some 16 MB
  return out;
}

// Output edge of a cubic conv along one axis: "same" (pad p = (k-1)/2, stride 1) or "valid" (p = 0).
static int outEdge(int d, int k, int s, int p) { return (d + 2 * p - k) / s + 1; }

// conv3d(x, xShape[5], w, k, s, p, co, y): y (N, Do, Ho, Wo, co) for a cubic kernel k, stride s, zero padding p.
static napi_value Conv3d(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 12)) return nullptr;
  const int N = i32(a, 1), D = i32(a, 2), H = i32(a, 3), W = i32(a, 4), Ci = i32(a, 5);
  const int k = i32(a, 7), s = i32(a, 8), p = i32(a, 9), Co = i32(a, 10);
  if (!a.ok) return nullptr;
  if (k < 1 || s < 1 || p < 0 || D + 2 * p < k || H + 2 * p < k || W + 2 * p < k) {
    fail(env, "conv3d: bad kernel, stride or padding for this shape");
    return nullptr;
  }
  const int Do = outEdge(D, k, s, p), Ho = outEdge(H, k, s, p), Wo = outEdge(W, k, s, p);
  const float* x = f32(a, 0, (size_t)N * D * H * W * Ci);
  const float* w = f32(a, 6, (size_t)k * k * k * Ci * Co);
  float* y = f32(a, 11, (size_t)N * Do * Ho * Wo * Co);
  if (!a.ok) return nullptr;
  std::vector<float> xpad;
  const float* xp = x;
  if (p > 0) {
    xpad = padVolume(x, N, D, H, W, Ci, p);
    xp = xpad.data();
  }
  const int level = gemmLevel(Co);
  const int npad = padTo(Co, lanesOf(level)), kci = k * Ci;
  // filter rows (dz, dy, dx, ci) are already tap-major; only the columns are padded to whole vectors
  std::vector<float> wp((size_t)k * k * kci * npad, 0.0f);
  for (size_t r = 0; r < (size_t)k * k * kci; r++) std::memcpy(&wp[r * npad], w + r * Co, sizeof(float) * Co);
  parallelFor((long)N * Do * Ho, [&](int, long r0, long r1) {
#ifdef SSB_HAVE_AVX2_PATH
    if (level == 1) return avx2::convForwardRows(xp, D + 2 * p, H + 2 * p, W + 2 * p, Ci, wp.data(), npad, k, s, y, Do, Ho, Wo, Co, r0, r1);
#endif
    base::convForwardRows(xp, D + 2 * p, H + 2 * p, W + 2 * p, Ci, wp.data(), npad, k, s, y, Do, Ho, Wo, Co, r0, r1);
  }, (double)N * Do * Ho * Wo * Co * k * k * k * Ci);
  return nullptr;
}

// conv3dBackpropInputPatch(dy, dyShape[5], w, k, ci, D, H, W, dx): input gradient of a "valid" conv with
// kernel == stride == k, x (N, D, H, W, ci) -> dy (N, Do, Ho, Wo, Co); dx must be zero on entry.
static napi_value Conv3dBackpropInputPatch(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 13)) return nullptr;
  const int N = i32(a, 1), Do = i32(a, 2), Ho = i32(a, 3), Wo = i32(a, 4), Co = i32(a, 5);
  const int k = i32(a, 7), Ci = i32(a, 8), D = i32(a, 9), H = i32(a, 10), W = i32(a, 11);
  if (!a.ok) return nullptr;
  if (k < 1 || outEdge(D, k, k, 0) != Do || outEdge(H, k, k, 0) != Ho || outEdge(W, k, k, 0) != Wo) {
    fail(env, "conv3dBackpropInputPatch: shapes do not match a kernel == stride convolution");
    return nullptr;
  }
  const float* dyv = f32(a, 0, (size_t)N * Do * Ho * Wo * Co);
  const float* w = f32(a, 6, (size_t)k * k * k * Ci * Co);
  float* dx = f32(a, 12, (size_t)N * D * H * W * Ci);
  if (!a.ok) return nullptr;
  const int kci = k * Ci;
  const int level = gemmLevel(kci);
  const int mpad = padTo(kci, lanesOf(level));
  // per tap row (dz, dy): Co rows x (dx, ci) columns, the transpose of that filter slice
  std::vector<float> wt((size_t)k * k * Co * mpad, 0.0f);
  for (int t = 0; t < k * k; t++)
    for (int j = 0; j < kci; j++)
      for (int o = 0; o < Co; o++) wt[((size_t)t * Co + o) * mpad + j] = w[((size_t)t * kci + j) * Co + o];
  parallelFor((long)N * Do * Ho, [&](int, long r0, long r1) {
#ifdef SSB_HAVE_AVX2_PATH
    if (level == 1) return avx2::convInputGradPatchRows(dyv, Do, Ho, Wo, Co, wt.data(), mpad, k, dx, D, H, W, Ci, r0, r1);
#endif
    base::convInputGradPatchRows(dyv, Do, Ho, Wo, Co, wt.data(), mpad, k, dx, D, H, W, Ci, r0, r1);
  }, (double)N * Do * Ho * Wo * Co * k * k * k * Ci);
  return nullptr;
}

// conv3dFilterGrad(x, xShape[5], dy, k, s, p, co, dw): dw (k, k, k, ci, co) of the conv3d above.
static napi_value Conv3dFilterGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 12)) return nullptr;
  const int N = i32(a, 1), D = i32(a, 2), H = i32(a, 3), W = i32(a, 4), Ci = i32(a, 5);
  const int k = i32(a, 7), s = i32(a, 8), p = i32(a, 9), Co = i32(a, 10);
  if (!a.ok) return nullptr;
  if (k < 1 || s < 1 || p < 0 || D + 2 * p < k || H + 2 * p < k || W + 2 * p < k) {
    fail(env, "conv3dFilterGrad: bad kernel, stride or padding for this shape");
    return nullptr;
  }
  const int Do = outEdge(D, k, s, p), Ho = outEdge(H, k, s, p), Wo = outEdge(W, k, s, p);
  const float* x = f32(a, 0, (size_t)N * D * H * W * Ci);
  const float* dyv = f32(a, 6, (size_t)N * Do * Ho * Wo * Co);
  float* dw = f32(a, 11, (size_t)k * k * k * Ci * Co);
  if (!a.ok) return nullptr;
  std::vector<float> xpad;
  const float* xp = x;
  if (p > 0) {
    xpad = padVolume(x, N, D, H, W, Ci, p);
    xp = xpad.data();
  }
  const int level = gemmLevel(Co);
  const int npad = padTo(Co, lanesOf(level)), kci = k * Ci;
  std::vector<float> dypad;
  const float* dyp = dyv;
  if (npad != Co) {
    // B rows must hold whole vectors: copy dy into rows of npad columns
    const size_t rows = (size_t)N * Do * Ho * Wo;
    dypad.assign(rows * npad, 0.0f);
    for (size_t r = 0; r < rows; r++) std::memcpy(&dypad[r * npad], dyv + r * Co, sizeof(float) * Co);
    dyp = dypad.data();
  }
  const size_t dwSize = (size_t)k * k * kci * npad;
  const long rows = (long)N * Do * Ho;
  const double flops = (double)N * Do * Ho * Wo * Co * k * k * k * Ci;
  const int t = flops < 4e6 ? 1 : (int)std::max<long>(1, std::min<long>(nThreads, rows));
  std::vector<std::vector<float>> part(t, std::vector<float>(dwSize, 0.0f));
  parallelFor(rows, [&](int ti, long r0, long r1) {
#ifdef SSB_HAVE_AVX2_PATH
    if (level == 1) return avx2::convFilterGradRows(xp, D + 2 * p, H + 2 * p, W + 2 * p, Ci, dyp, npad, k, s, Do, Ho, Wo, part[ti].data(), r0, r1);
#endif
    base::convFilterGradRows(xp, D + 2 * p, H + 2 * p, W + 2 * p, Ci, dyp, npad, k, s, Do, Ho, Wo, part[ti].data(), r0, r1);
  }, flops);
  for (size_t r = 0; r < (size_t)k * k * kci; r++)
    for (int o = 0; o < Co; o++) {
      float sum = 0;
      for (int ti = 0; ti < t; ti++) sum += part[ti][r * npad + o];
      dw[r * Co + o] = sum;
    }
  return nullptr;
}

// Elementwise calls split their range across threads only when it is large enough to pay for starting them.
static void parallelRange(long n, long grain, const std::function<void(long, long)>& fn) {
  if (n < grain || nThreads == 1) return fn(0, n);
  parallelFor(nThreads, [&](int, long t0, long t1) {
    for (long t = t0; t < t1; t++) fn(n * t / nThreads, n * (t + 1) / nThreads);
  });
}
constexpr long GRAIN = 1 << 17;  // elements: below this, one thread (starting one costs 30-150 us)

#ifdef SSB_HAVE_AVX2_PATH
#define DISPATCH(call) (useAvx2 ? avx2::call : base::call)
#else
#define DISPATCH(call) (base::call)
#endif

// leakyRelu(x, alpha, out)
static napi_value LeakyRelu(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 3)) return nullptr;
  double alpha = 0;
  napi_get_value_double(env, a.v[1], &alpha);
  size_t n = 0;
  napi_get_typedarray_info(env, a.v[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* x = f32(a, 0, n);
  float* out = f32(a, 2, n);
  if (!a.ok) return nullptr;
  parallelRange((long)n, GRAIN, [&](long i0, long i1) { DISPATCH(leakyRelu(x, out, alpha, i0, i1)); });
  return nullptr;
}

// leakyReluGrad(dy, x, alpha, out)
static napi_value LeakyReluGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 4)) return nullptr;
  double alpha = 0;
  napi_get_value_double(env, a.v[2], &alpha);
  size_t n = 0;
  napi_get_typedarray_info(env, a.v[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* dy = f32(a, 0, n);
  const float* x = f32(a, 1, n);
  float* out = f32(a, 3, n);
  if (!a.ok) return nullptr;
  parallelRange((long)n, GRAIN, [&](long i0, long i1) { DISPATCH(leakyReluGrad(dy, x, out, (float)alpha, i0, i1)); });
  return nullptr;
}

// binary(op, a, as, aj, b, bs, bj, outer, inner, out): see binaryRows
static napi_value Binary(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 10)) return nullptr;
  const int op = i32(a, 0), as = i32(a, 2), aj = i32(a, 3), bs = i32(a, 5), bj = i32(a, 6), outer = i32(a, 7), inner = i32(a, 8);
  if (!a.ok) return nullptr;
  if (op < 0 || op > 3 || outer < 0 || inner < 0 || as < 0 || bs < 0 || aj < 0 || aj > 1 || bj < 0 || bj > 1) {
    fail(env, "binary: bad operation or strides");
    return nullptr;
  }
  // the last element each operand is read at
  const auto need = [&](long s, long j) { return outer == 0 || inner == 0 ? 0 : (size_t)((outer - 1) * s + (inner - 1) * j + 1); };
  const float* x = f32(a, 1, need(as, aj));
  const float* y = f32(a, 4, need(bs, bj));
  float* out = f32(a, 9, (size_t)outer * inner);
  if (!a.ok) return nullptr;
  parallelRange(outer, std::max<long>(1, GRAIN / std::max(1, inner)), [&](long o0, long o1) { DISPATCH(binaryRows(op, x, as, aj, y, bs, bj, out, inner, o0, o1)); });
  return nullptr;
}

// exp(x, out): out = exp(x) taken in double and rounded once to float, as Math.exp in TF.js's cpu kernel.
static napi_value Exp(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 2)) return nullptr;
  size_t n = 0;
  napi_get_typedarray_info(env, a.v[0], nullptr, &n, nullptr, nullptr, nullptr);
  const float* x = f32(a, 0, n);
  float* out = f32(a, 1, n);
  if (!a.ok) return nullptr;
  parallelRange((long)n, GRAIN / 4, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) out[i] = (float)std::exp((double)x[i]);
  });
  return nullptr;
}

// copy2d(src, srcOff, srcStride, dst, dstOff, dstStride, rows, width): rows of width floats between strided
// layouts (concatenation and splitting along the last axis).
static napi_value Copy2d(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 8)) return nullptr;
  const int so = i32(a, 1), ss = i32(a, 2), d0 = i32(a, 4), ds = i32(a, 5), rows = i32(a, 6), w = i32(a, 7);
  if (!a.ok) return nullptr;
  if (so < 0 || ss < w || d0 < 0 || ds < w || rows < 0 || w < 0) {
    fail(env, "copy2d: bad offsets or strides");
    return nullptr;
  }
  const size_t needS = rows == 0 ? 0 : (size_t)so + (size_t)(rows - 1) * ss + w;
  const size_t needD = rows == 0 ? 0 : (size_t)d0 + (size_t)(rows - 1) * ds + w;
  const float* src = f32(a, 0, needS);
  float* dst = f32(a, 3, needD);
  if (!a.ok) return nullptr;
  parallelRange(rows, std::max<long>(1, GRAIN / std::max(1, w)), [&](long r0, long r1) {
    for (long r = r0; r < r1; r++) std::memcpy(dst + d0 + r * (size_t)ds, src + so + r * (size_t)ss, sizeof(float) * w);
  });
  return nullptr;
}

// columnSums(x, rows, cols, out)
static napi_value ColumnSums(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 4)) return nullptr;
  const int rows = i32(a, 1), cols = i32(a, 2);
  if (!a.ok) return nullptr;
  if (rows < 0 || cols < 0) {
    fail(env, "columnSums: bad shape");
    return nullptr;
  }
  const float* x = f32(a, 0, (size_t)rows * cols);
  float* out = f32(a, 3, cols);
  if (!a.ok) return nullptr;
  // columns split across threads only when there are enough of them for each thread to stream whole rows
  if (cols >= 8 * nThreads && (long)rows * cols >= GRAIN)
    parallelFor(cols, [&](int, long c0, long c1) { DISPATCH(columnSums(x, rows, cols, out, c0, c1)); });
  else
    DISPATCH(columnSums(x, rows, cols, out, 0, cols));
  return nullptr;
}

// maxPool(x, N, D, H, W, C, f, dy | null, out): forward (dy null, out N x D/f x H/f x W/f x C) or gradient (out
// zeroed, shaped like x); see maxPoolRows.
static napi_value MaxPool(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 9)) return nullptr;
  const int N = i32(a, 1), D = i32(a, 2), H = i32(a, 3), W = i32(a, 4), C = i32(a, 5), f = i32(a, 6);
  if (!a.ok) return nullptr;
  if (N < 0 || D < 0 || H < 0 || W < 0 || C < 0 || f < 1) {
    fail(env, "maxPool: bad shape or window");
    return nullptr;
  }
  napi_valuetype t;
  napi_typeof(env, a.v[7], &t);
  const bool grad = t != napi_null && t != napi_undefined;
  const int Do = D / f, Ho = H / f, Wo = W / f;
  const size_t inSize = (size_t)N * D * H * W * C, outSize = (size_t)N * Do * Ho * Wo * C;
  const float* x = f32(a, 0, inSize);
  const float* dy = grad ? f32(a, 7, outSize) : nullptr;
  float* out = f32(a, 8, grad ? inSize : outSize);
  if (!a.ok) return nullptr;
  parallelRange((long)N * Do * Ho, std::max<long>(1, GRAIN / std::max(1, Wo * C * f * f * f)), [&](long r0, long r1) {
    DISPATCH(maxPoolRows(x, D, H, W, C, f, dy, out, r0, r1));
  });
  return nullptr;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 1)) return nullptr;
  const int n = i32(a, 0);
  if (!a.ok) return nullptr;
  nThreads = std::max(1, std::min(n, 256));
  return nullptr;
}

// setSimd(level): 1 AVX2+FMA, 0 baseline, capped at what the CPU has; for tests of every build.
static napi_value SetSimd(napi_env env, napi_callback_info info) {
  Args a;
  if (!getArgs(env, info, a, 1)) return nullptr;
  const int level = i32(a, 0);
  if (!a.ok) return nullptr;
  simdLevel = std::max(0, std::min(level, cpuLevel));
  useAvx2 = simdLevel >= 1;
  return nullptr;
}

static napi_value Info(napi_env env, napi_callback_info) {
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_int32(env, nThreads, &v);
  napi_set_named_property(env, o, "threads", v);
  napi_create_string_utf8(env, simdLevel == 1 ? "avx2+fma" : "baseline", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "simd", v);
  napi_create_int32(env, simdLevel, &v);
  napi_set_named_property(env, o, "simdLevel", v);
  napi_create_int32(env, cpuLevel, &v);
  napi_set_named_property(env, o, "cpuLevel", v);
  return o;
}

static napi_value Init(napi_env env, napi_value exports) {
#ifdef SSB_HAVE_AVX2_PATH
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) cpuLevel = 1;
#endif
  // SSB_CT_NATIVE_SIMD=0 selects the baseline build (to compare builds)
  const char* cap = std::getenv("SSB_CT_NATIVE_SIMD");
  simdLevel = cap && *cap >= '0' && *cap <= '1' ? std::min(cpuLevel, *cap - '0') : cpuLevel;
  useAvx2 = simdLevel >= 1;
  const unsigned hc = std::thread::hardware_concurrency();
  nThreads = hc > 0 ? (int)hc : 1;
  napi_property_descriptor props[] = {
      {"conv3d", nullptr, Conv3d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv3dBackpropInputPatch", nullptr, Conv3dBackpropInputPatch, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv3dFilterGrad", nullptr, Conv3dFilterGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"leakyRelu", nullptr, LeakyRelu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"leakyReluGrad", nullptr, LeakyReluGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"exp", nullptr, Exp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copy2d", nullptr, Copy2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"columnSums", nullptr, ColumnSums, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool", nullptr, MaxPool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setSimd", nullptr, SetSimd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
