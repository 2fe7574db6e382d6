// Perceptually uniform colour scales: viridis for sequential scores, a blue-white-red diverging map
// (Moreland's cool-warm) for signed scores.

type RGB = [number, number, number];

const VIRIDIS: RGB[] = [
  [68, 1, 84], [72, 36, 117], [65, 68, 135], [53, 95, 141], [42, 120, 142],
  [33, 145, 140], [34, 168, 132], [68, 191, 112], [122, 209, 81], [189, 223, 38], [253, 231, 37],
];
const COOLWARM: RGB[] = [
  [59, 76, 192], [98, 130, 234], [141, 176, 254], [184, 208, 249], [221, 221, 221],
  [245, 196, 173], [244, 154, 123], [222, 96, 77], [180, 4, 38],
];

function lerpScale(stops: RGB[], t: number): RGB {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

export type ScaleName = "viridis" | "coolwarm";

/** Colour for t in [0, 1] as an rgb() string. */
export function colour(t: number, scale: ScaleName = "viridis"): string {
  const [r, g, b] = lerpScale(scale === "viridis" ? VIRIDIS : COOLWARM, t);
  return `rgb(${Math.round(r)}, ${Math.round(g)}, ${Math.round(b)})`;
}

/** Colour as [r, g, b] in 0..255 (for canvas pixel writes). */
export function colourRGB(t: number, scale: ScaleName = "viridis"): RGB {
  return lerpScale(scale === "viridis" ? VIRIDIS : COOLWARM, t);
}

/** Black or white text, whichever reads better on the given background t. */
export function textOn(t: number, scale: ScaleName = "viridis"): string {
  const [r, g, b] = lerpScale(scale === "viridis" ? VIRIDIS : COOLWARM, t);
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 140 ? "#111" : "#fff";
}

export interface Normaliser {
  (v: number): number;
  lo: number;
  hi: number;
  scale: ScaleName;
}

/** A normaliser for the finite values: signed data → symmetric diverging, else min..max viridis. */
export function normaliser(values: ArrayLike<number>, signed?: boolean): Normaliser {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  const diverging = signed ?? (lo < 0 && hi > 0);
  let fn: (v: number) => number;
  if (diverging) {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    lo = -m;
    hi = m;
    fn = (v) => 0.5 + v / (2 * m);
  } else {
    const span = hi - lo || 1;
    fn = (v) => (v - lo) / span;
  }
  return Object.assign(fn, { lo, hi, scale: (diverging ? "coolwarm" : "viridis") as ScaleName });
}

/** Categorical colours for series and methods (Tableau 10: readable on light and dark backgrounds). */
export const CATEGORICAL = [
  "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
];

export function category(i: number): string {
  return CATEGORICAL[((i % CATEGORICAL.length) + CATEGORICAL.length) % CATEGORICAL.length];
}
