/**
 * Small dense linear algebra for the fitters (matrices of a few to ~100 columns, row-major Float64Array): Cholesky,
 * SPD inverse, least squares, NNLS, symmetric eigen-decomposition. Written here so the numerics have no dependency
 * and stay double precision.
 */

/**
 * Cholesky factorisation of a symmetric positive-definite k x k matrix, in place (lower triangle).
 * Returns false when a pivot is not positive (matrix singular or indefinite to working precision).
 */
export function choleskyInPlace(a: Float64Array, k: number): boolean {
  for (let j = 0; j < k; j++) {
    let d = a[j * k + j]!;
    for (let m = 0; m < j; m++) d -= a[j * k + m]! * a[j * k + m]!;
    if (!(d > 0) || !Number.isFinite(d)) return false;
    const l = Math.sqrt(d);
    a[j * k + j] = l;
    for (let i = j + 1; i < k; i++) {
      let s = a[i * k + j]!;
      for (let m = 0; m < j; m++) s -= a[i * k + m]! * a[j * k + m]!;
      a[i * k + j] = s / l;
    }
  }
  return true;
}

/** Solves L L^T x = b given the factor from choleskyInPlace; b is overwritten with x. */
export function choleskySolveInPlace(l: Float64Array, k: number, b: Float64Array): void {
  for (let i = 0; i < k; i++) {
    let s = b[i]!;
    for (let m = 0; m < i; m++) s -= l[i * k + m]! * b[m]!;
    b[i] = s / l[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let m = i + 1; m < k; m++) s -= l[m * k + i]! * b[m]!;
    b[i] = s / l[i * k + i]!;
  }
}

/**
 * Inverse of a symmetric positive-definite matrix. Columns are equilibrated first (D A D with D = diag^-1/2)
 * so parameters of very different magnitude (ohm and farad) do not make the factorisation fail.
 * Returns null when the matrix is singular.
 */
export function spdInverse(a: Float64Array, k: number): Float64Array | null {
  const d = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const v = a[i * k + i]!;
    if (!(v > 0)) return null;
    d[i] = 1 / Math.sqrt(v);
  }
  const s = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) s[i * k + j] = a[i * k + j]! * d[i]! * d[j]!;
  if (!choleskyInPlace(s, k)) return null;
  // Reject near-singular matrices: the smallest pivot squared bounds the smallest eigenvalue from above.
  let minPivot = Infinity;
  let maxPivot = 0;
  for (let i = 0; i < k; i++) {
    minPivot = Math.min(minPivot, s[i * k + i]!);
    maxPivot = Math.max(maxPivot, s[i * k + i]!);
  }
  if ((minPivot / maxPivot) ** 2 < 1e-15) return null;
  const inv = new Float64Array(k * k);
  const col = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    col.fill(0);
    col[j] = 1;
    choleskySolveInPlace(s, k, col);
    for (let i = 0; i < k; i++) inv[i * k + j] = col[i]! * d[i]! * d[j]!;
  }
  return inv;
}

/**
 * Linear least squares min ||A x - b|| by Householder QR with column scaling (A is m x n row-major, m >= n).
 * Rank-deficient columns (|R_jj| tiny) get x_j = 0. Returns x.
 */
export function lstsq(a: Float64Array, m: number, n: number, b: Float64Array): Float64Array {
  const q = Float64Array.from(a);
  const y = Float64Array.from(b);
  const scale = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += q[i * n + j]! * q[i * n + j]!;
    scale[j] = s > 0 ? 1 / Math.sqrt(s) : 1;
    for (let i = 0; i < m; i++) q[i * n + j] = (q[i * n + j] ?? 0) * scale[j]!;
  }
  const rdiag = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let norm = 0;
    for (let i = j; i < m; i++) norm += q[i * n + j]! * q[i * n + j]!;
    norm = Math.sqrt(norm);
    if (norm === 0) {
      rdiag[j] = 0;
      continue;
    }
    const alpha = q[j * n + j]! > 0 ? -norm : norm;
    // v = x - alpha e1, stored in column j below the diagonal
    q[j * n + j] = (q[j * n + j] ?? 0) - alpha;
    let vnorm2 = 0;
    for (let i = j; i < m; i++) vnorm2 += q[i * n + j]! * q[i * n + j]!;
    if (vnorm2 > 0) {
      for (let c = j + 1; c < n; c++) {
        let dot = 0;
        for (let i = j; i < m; i++) dot += q[i * n + j]! * q[i * n + c]!;
        const f = (2 * dot) / vnorm2;
        for (let i = j; i < m; i++) q[i * n + c] = (q[i * n + c] ?? 0) - (f * q[i * n + j]!);
      }
      let dot = 0;
      for (let i = j; i < m; i++) dot += q[i * n + j]! * y[i]!;
      const f = (2 * dot) / vnorm2;
      for (let i = j; i < m; i++) y[i] = (y[i] ?? 0) - (f * q[i * n + j]!);
    }
    rdiag[j] = alpha;
  }
  const x = new Float64Array(n);
  let rmax = 0;
  for (let j = 0; j < n; j++) rmax = Math.max(rmax, Math.abs(rdiag[j]!));
  for (let j = n - 1; j >= 0; j--) {
    if (Math.abs(rdiag[j]!) <= 1e-13 * rmax) {
      x[j] = 0;
      continue;
    }
    let s = y[j]!;
    for (let c = j + 1; c < n; c++) s -= q[j * n + c]! * x[c]!;
    x[j] = s / rdiag[j]!;
  }
  for (let j = 0; j < n; j++) x[j] = (x[j] ?? 0) * scale[j]!;
  return x;
}

/**
 * Non-negative least squares min ||A x - b|| subject to x >= 0 (Lawson and Hanson 1974), A m x n row-major.
 */
export function nnls(a: Float64Array, m: number, n: number, b: Float64Array, maxIter = 30 * n): Float64Array {
  const x = new Float64Array(n);
  const passive = new Uint8Array(n);
  const w = new Float64Array(n);
  const resid = new Float64Array(m);
  const gradient = () => {
    for (let i = 0; i < m; i++) {
      let s = b[i]!;
      for (let j = 0; j < n; j++) s -= a[i * n + j]! * x[j]!;
      resid[i] = s;
    }
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += a[i * n + j]! * resid[i]!;
      w[j] = s;
    }
  };
  let anorm = 0;
  for (let i = 0; i < a.length; i++) anorm = Math.max(anorm, Math.abs(a[i]!));
  let bnorm = 0;
  for (let i = 0; i < m; i++) bnorm = Math.max(bnorm, Math.abs(b[i]!));
  const tol = 10 * 2.2e-16 * anorm * bnorm * Math.max(m, n);
  const solvePassive = (): Float64Array => {
    const idx: number[] = [];
    for (let j = 0; j < n; j++) if (passive[j]) idx.push(j);
    const sub = new Float64Array(m * idx.length);
    for (let i = 0; i < m; i++) idx.forEach((j, c) => (sub[i * idx.length + c] = a[i * n + j]!));
    const zs = lstsq(sub, m, idx.length, b);
    const z = new Float64Array(n);
    idx.forEach((j, c) => (z[j] = zs[c]!));
    return z;
  };
  let iter = 0;
  gradient();
  for (;;) {
    let jmax = -1;
    let wmax = tol;
    for (let j = 0; j < n; j++) {
      if (!passive[j] && w[j]! > wmax) {
        wmax = w[j]!;
        jmax = j;
      }
    }
    if (jmax < 0 || iter >= maxIter) break;
    passive[jmax] = 1;
    for (;;) {
      iter++;
      const z = solvePassive();
      let allPos = true;
      for (let j = 0; j < n; j++) if (passive[j] && z[j]! <= 0) allPos = false;
      if (allPos) {
        x.set(z);
        break;
      }
      let alpha = Infinity;
      for (let j = 0; j < n; j++) {
        if (passive[j] && z[j]! <= 0) alpha = Math.min(alpha, x[j]! / (x[j]! - z[j]!));
      }
      for (let j = 0; j < n; j++) {
        x[j] = (x[j] ?? 0) + (alpha * (z[j]! - x[j]!));
        if (passive[j] && Math.abs(x[j]!) <= 1e-15) {
          passive[j] = 0;
          x[j] = 0;
        }
      }
      if (iter >= maxIter) break;
    }
    gradient();
  }
  return x;
}

/**
 * Eigen-decomposition of a symmetric k x k matrix by cyclic Jacobi rotations (k small). Returns eigenvalues
 * and eigenvectors as columns of a row-major k x k matrix.
 */
export function symmetricEigen(a: Float64Array, k: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += m[p * k + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = m[p * k + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * k + q]! - m[p * k + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const mrp = m[r * k + p]!;
          const mrq = m[r * k + q]!;
          m[r * k + p] = c * mrp - s * mrq;
          m[r * k + q] = s * mrp + c * mrq;
        }
        for (let r = 0; r < k; r++) {
          const mpr = m[p * k + r]!;
          const mqr = m[q * k + r]!;
          m[p * k + r] = c * mpr - s * mqr;
          m[q * k + r] = s * mpr + c * mqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p]!;
          const vrq = v[r * k + q]!;
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: k }, (_, i) => m[i * k + i]!), vectors: v };
}
