// Region label maps: per-region areas, outlines, per-token region/pixel maps and the insertion order.

import { type NDArray, row, type TypedArray } from "./arrays";

export interface Regions {
  width: number;
  height: number;
  labels: TypedArray;
  count: number;
  area: Float64Array; // fraction of the image per region
  edge: Uint8Array; // 1 where a pixel borders another region
}

/** Build region helpers from a [H, W] label map. */
export function regionsOf(labels: NDArray, count?: number): Regions {
  const [height, width] = labels.shape;
  const lab = labels.data;
  let n = count ?? 0;
  for (let p = 0; p < lab.length; p++) if (lab[p] + 1 > n) n = lab[p] + 1;
  const area = new Float64Array(n);
  const edge = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const r = lab[p];
      if (r >= 0 && r < n) area[r] += 1;
      if ((x + 1 < width && lab[p + 1] !== r) || (y + 1 < height && lab[p + width] !== r)) edge[p] = 1;
    }
  }
  for (let r = 0; r < n; r++) area[r] /= width * height || 1;
  return { width, height, labels: lab, count: n, area, edge };
}

/** How many regions of `order` are revealed (insertion) or removed (deletion) at `step` of `steps`. */
export function regionsAtStep(
  step: number,
  steps: number,
  order: ArrayLike<number>,
  regions: Regions | null,
  areaAt?: ArrayLike<number>,
): number {
  const n = order.length;
  if (step <= 0) return 0;
  if (step >= steps) return n;
  if (steps === n) return step;
  if (areaAt && regions && step < areaAt.length) {
    const target = areaAt[step] + 1e-6;
    let acc = 0;
    for (let k = 0; k < n; k++) {
      acc += regions.area[order[k]] ?? 0;
      if (acc > target) return k;
    }
    return n;
  }
  return Math.round((step / steps) * n);
}

/** A per-token source of map values at the label map's resolution. */
export interface MapSource {
  perToken: boolean;
  tokens: number;
  /** Values per pixel (length H*W) for `token` (ignored when not per-token). */
  pixels(token: number): Float32Array;
  /** Every finite value over all tokens (for one shared colour scale). */
  all: ArrayLike<number>;
}

/** Region scores [R] | [T, R] or pixel maps [h, w] | [T, h, w], sampled to the label map's grid. */
export function mapSource(
  regionScores: NDArray | null,
  pixelMap: NDArray | null,
  regions: Regions | null,
  width: number,
  height: number,
): MapSource | null {
  if (regionScores && regions) {
    const perToken = regionScores.shape.length === 2;
    const tokens = perToken ? regionScores.shape[0] : 1;
    const cache = new Map<number, Float32Array>();
    return {
      perToken,
      tokens,
      all: regionScores.data,
      pixels(token) {
        const t = perToken ? Math.max(0, Math.min(tokens - 1, token)) : 0;
        if (!cache.has(t)) {
          const vals = perToken ? row(regionScores, t) : regionScores.data;
          const out = new Float32Array(width * height);
          for (let p = 0; p < out.length; p++) {
            const r = regions.labels[p];
            out[p] = r >= 0 && r < vals.length ? vals[r] : NaN;
          }
          cache.set(t, out);
        }
        return cache.get(t)!;
      },
    };
  }
  if (pixelMap && pixelMap.shape.length >= 2) {
    const perToken = pixelMap.shape.length === 3;
    const tokens = perToken ? pixelMap.shape[0] : 1;
    const [mh, mw] = pixelMap.shape.slice(-2);
    const cache = new Map<number, Float32Array>();
    return {
      perToken,
      tokens,
      all: pixelMap.data,
      pixels(token) {
        const t = perToken ? Math.max(0, Math.min(tokens - 1, token)) : 0;
        if (!cache.has(t)) {
          const base = t * mh * mw;
          const out = new Float32Array(width * height);
          for (let y = 0; y < height; y++) {
            const sy = Math.min(mh - 1, Math.floor(((y + 0.5) * mh) / height));
            for (let x = 0; x < width; x++) {
              const sx = Math.min(mw - 1, Math.floor(((x + 0.5) * mw) / width));
              out[y * width + x] = pixelMap.data[base + sy * mw + sx];
            }
          }
          cache.set(t, out);
        }
        return cache.get(t)!;
      },
    };
  }
  return null;
}

/**
 * Per-token marginal gain of each region in insertion order, p(step k) - p(step k-1), as [T + 1, R]
 * (the last row is the mean over tokens). Null unless there is one step per region.
 */
export function insertionGains(insertion: NDArray, order: ArrayLike<number>, count: number): NDArray | null {
  const [tokens, steps1] = insertion.shape;
  if (steps1 - 1 !== order.length) return null;
  const out = new Float32Array((tokens + 1) * count).fill(NaN);
  const mean = out.subarray(tokens * count);
  for (let t = 0; t < tokens; t++) {
    const c = row(insertion, t);
    for (let k = 1; k < steps1; k++) {
      const r = order[k - 1];
      if (r < 0 || r >= count) continue;
      const g = c[k] - c[k - 1];
      out[t * count + r] = g;
      mean[r] = (Number.isNaN(mean[r]) ? 0 : mean[r]) + (Number.isFinite(g) ? g / tokens : 0);
    }
  }
  return { data: out, shape: [tokens + 1, count] };
}

/** Area under a curve by the trapezoid rule over x. */
export function auc(xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  let a = 0;
  const n = Math.min(xs.length, ys.length);
  for (let i = 1; i < n; i++) {
    if (Number.isFinite(ys[i]) && Number.isFinite(ys[i - 1])) a += ((xs[i] - xs[i - 1]) * (ys[i] + ys[i - 1])) / 2;
  }
  return a;
}
