// Paint an image with a heatmap blended on top into a canvas (used by grids of small maps).

import { colourRGB, type Normaliser } from "./colors";
import type { RGBAImage } from "./image";
import type { Regions } from "./regions";

export function paintHeat(
  canvas: HTMLCanvasElement,
  image: RGBAImage | null,
  values: ArrayLike<number> | null,
  norm: Normaliser,
  alpha: number,
  regions: Regions | null = null,
): void {
  const ctx = canvas.getContext?.("2d");
  if (!ctx) return;
  const { width, height } = canvas;
  const out = ctx.createImageData(width, height);
  const px = out.data;
  for (let p = 0; p < width * height; p++) {
    const o = p * 4;
    let r = image ? image.data[o] : 128;
    let g = image ? image.data[o + 1] : 128;
    let b = image ? image.data[o + 2] : 128;
    const v = values ? values[p] : NaN;
    if (Number.isFinite(v)) {
      const tv = norm(v);
      const c = colourRGB(tv, norm.scale);
      const a = norm.scale === "coolwarm" ? alpha * (0.1 + 0.9 * Math.min(1, Math.abs(2 * tv - 1) * 1.4)) : alpha;
      r += (c[0] - r) * a;
      g += (c[1] - g) * a;
      b += (c[2] - b) * a;
    }
    if (regions && regions.edge[p]) {
      r = r * 0.6 + 100;
      g = g * 0.6 + 100;
      b = b * 0.6 + 100;
    }
    px[o] = r;
    px[o + 1] = g;
    px[o + 2] = b;
    px[o + 3] = 255;
  }
  ctx.putImageData(out, 0, 0);
}
