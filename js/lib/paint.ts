// Paint an image with a heatmap on top into a canvas (used by grids of small maps): blended, or as
// iso-lines over the unmodified image ("contours", readable when objects share the map's colours).

import { colourRGB, type Normaliser } from "./colors";
import type { RGBAImage } from "./image";
import type { Regions } from "./regions";

/** A pixel's colour as unrounded 0..255 floats, edited in place by the per-pixel helpers below. */
export type RGB = [number, number, number];

export function paintHeat(
  canvas: HTMLCanvasElement,
  image: RGBAImage | null,
  values: ArrayLike<number> | null,
  norm: Normaliser,
  alpha: number,
  regions: Regions | null = null,
  style: "blend" | "contours" = "blend",
): void {
  const ctx = canvas.getContext?.("2d");
  if (!ctx) return;
  const { width, height } = canvas;
  const out = ctx.createImageData(width, height);
  const px = out.data;
  const iso = style === "contours" && values ? contours(values, norm, width, height) : null;
  const c: RGB = [0, 0, 0];
  for (let p = 0; p < width * height; p++) {
    const o = p * 4;
    c[0] = image ? image.data[o] : 128;
    c[1] = image ? image.data[o + 1] : 128;
    c[2] = image ? image.data[o + 2] : 128;
    if (values && !iso) blendHeat(c, values[p], norm, alpha);
    if (regions && regions.edge[p]) shadeEdge(c, 0.6, 100);
    if (iso) shadeContour(c, iso, p, norm);
    px[o] = c[0];
    px[o + 1] = c[1];
    px[o + 2] = c[2];
    px[o + 3] = 255;
  }
  ctx.putImageData(out, 0, 0);
}

/**
 * Tint `rgb` in place towards the colour of value `v` on `norm`'s scale, by `alpha` (non-finite `v`:
 * untouched). On a diverging scale near-zero is see-through, so the image shows where nothing is
 * attributed.
 */
export function blendHeat(rgb: RGB, v: number, norm: Normaliser, alpha: number): void {
  if (!Number.isFinite(v)) return;
  const t = norm(v);
  const c = colourRGB(t, norm.scale);
  const a = norm.scale === "coolwarm" ? alpha * (0.1 + 0.9 * Math.min(1, Math.abs(2 * t - 1) * 1.4)) : alpha;
  rgb[0] += (c[0] - rgb[0]) * a;
  rgb[1] += (c[1] - rgb[1]) * a;
  rgb[2] += (c[2] - rgb[2]) * a;
}

/**
 * Lighten a region-outline pixel in place: keep `keep` of its colour and add `add` to each channel, so
 * outlines read over any map colour while the colour below still shows through.
 */
export function shadeEdge(rgb: RGB, keep: number, add: number): void {
  rgb[0] = rgb[0] * keep + add;
  rgb[1] = rgb[1] * keep + add;
  rgb[2] = rgb[2] * keep + add;
}

/** Iso-lines of a map, for drawing over the unmodified image (readable over objects of any colour). */
export interface Contours {
  /** Per pixel: the scale position t in [0, 1] of the iso-line through it, NaN where there is none. */
  line: Float32Array;
  /** Per pixel: 1 for the dark/light halo beside a line (so a line stays visible on any background). */
  halo: Uint8Array;
}

/**
 * Iso-lines at `levels` evenly spaced scale positions (t = 1/levels .. (levels-1)/levels), two pixels
 * wide, drawn just inside the stronger of two neighbouring bands (so a line encloses what scores high).
 * `skip(p)` leaves pixels out (hidden regions). On diverging scales a line between bands on both sides of
 * 0 takes the level further from 0, so a red line means "at least this much for", a blue one "against".
 */
export function contours(
  values: ArrayLike<number>,
  norm: Normaliser,
  width: number,
  height: number,
  levels = 5,
  skip: (p: number) => boolean = () => false,
): Contours {
  const n = width * height;
  const band = new Int16Array(n);
  for (let p = 0; p < n; p++) {
    const v = values[p];
    band[p] = Number.isFinite(v) && !skip(p) ? Math.min(levels - 1, Math.max(0, Math.floor(norm(v) * levels))) : -1;
  }
  const line = new Float32Array(n).fill(NaN);
  const diverging = norm.scale === "coolwarm";
  // A pixel on several lines keeps the strongest: the highest (sequential) or the furthest from 0 (diverging).
  const strength = (t: number): number => (diverging ? Math.abs(t - 0.5) : t);
  const bandStrength = (b: number): number => (diverging ? Math.abs(b - (levels - 1) / 2) : b);
  const set = (i: number, t: number): void => {
    if (Number.isNaN(line[i]) || strength(line[i]) < strength(t)) line[i] = t;
  };
  // The line runs two pixels wide just INSIDE the stronger band, so it encloses what scores high.
  const mark = (p: number, q: number, horizontal: boolean): void => {
    const a = Math.min(band[p], band[q]);
    const b = Math.max(band[p], band[q]);
    if (a < 0 || a === b) return;
    // Bands a < b are separated by the levels (a+1)/levels .. b/levels: keep the strongest crossing.
    const t = diverging && (a + 1) / levels < 0.5 && strength((a + 1) / levels) > strength(b / levels) ? (a + 1) / levels : b / levels;
    if (diverging && Math.abs(t - 0.5) < 1e-9) return; // the zero crossing carries no evidence
    const inner = bandStrength(band[p]) >= bandStrength(band[q]) ? p : q;
    const step = inner - (inner === p ? q : p);
    set(inner, t);
    const next = inner + step;
    const inside = horizontal ? Math.floor(next / width) === Math.floor(inner / width) && next >= 0 : next >= 0 && next < n;
    if (inside && next < n && band[next] === band[inner]) set(next, t);
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (x + 1 < width) mark(p, p + 1, true);
      if (y + 1 < height) mark(p, p + width, false);
    }
  }
  const halo = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (!Number.isNaN(line[p])) continue;
      const near =
        (x > 0 && !Number.isNaN(line[p - 1])) || (x + 1 < width && !Number.isNaN(line[p + 1])) ||
        (y > 0 && !Number.isNaN(line[p - width])) || (y + 1 < height && !Number.isNaN(line[p + width]));
      if (near) halo[p] = 1;
    }
  }
  return { line, halo };
}

/** Colour of a contour line at scale position t: saturated ends of the scale so lines never fade to white. */
export function lineColour(t: number, norm: Normaliser): [number, number, number] {
  if (norm.scale === "coolwarm") return colourRGB(t < 0.5 ? Math.min(t, 0.15) : Math.max(t, 0.85), "coolwarm");
  return colourRGB(t, "viridis");
}

/**
 * The contour style at pixel `p`, in place on `rgb` (the pixel's colour so far): the iso-line's colour on
 * a line, a thin dark rim (a quarter of the brightness) beside one, so lines read on light and dark
 * objects alike; elsewhere the pixel is left as it is.
 */
export function shadeContour(rgb: RGB, iso: Contours, p: number, norm: Normaliser): void {
  const t = iso.line[p];
  if (!Number.isNaN(t)) {
    const c = lineColour(t, norm);
    rgb[0] = c[0];
    rgb[1] = c[1];
    rgb[2] = c[2];
  } else if (iso.halo[p]) {
    rgb[0] *= 0.25;
    rgb[1] *= 0.25;
    rgb[2] *= 0.25;
  }
}
