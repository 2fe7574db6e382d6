// Images travel as PNG bytes (compact) or raw uint8 [H, W, 3|4] / [H, W] arrays; both end up as RGBA.

import { decodeArray, isArraySpec, toBytes } from "./arrays";

export interface RGBAImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** Decode a raw uint8 image spec synchronously (null for PNG or anything else). */
export function rawImage(value: unknown): RGBAImage | null {
  if (!isArraySpec(value) || value.dtype !== "uint8") return null;
  const arr = decodeArray(value);
  const [height, width, channels = 1] = arr.shape;
  if (!height || !width) return null;
  const out = new Uint8ClampedArray(width * height * 4);
  const src = arr.data;
  for (let p = 0; p < width * height; p++) {
    const o = p * 4;
    if (channels >= 3) {
      out[o] = src[p * channels];
      out[o + 1] = src[p * channels + 1];
      out[o + 2] = src[p * channels + 2];
    } else {
      out[o] = out[o + 1] = out[o + 2] = src[p];
    }
    out[o + 3] = 255;
  }
  return { width, height, data: out };
}

/** Decode any image spec (PNG through the browser's decoder). */
export async function decodeImage(value: unknown): Promise<RGBAImage | null> {
  const raw = rawImage(value);
  if (raw) return raw;
  if (!isArraySpec(value) || (value.dtype !== "png" && value.dtype !== "jpeg")) return null;
  const bytes = toBytes(value.data);
  const blob = new Blob([bytes.slice()], { type: `image/${value.dtype}` });
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.drawImage(bitmap, 0, 0);
  const img = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  return { width: img.width, height: img.height, data: img.data };
}

/** The declared [height, width] of an image spec (known before decoding). */
export function imageShape(value: unknown): [number, number] | null {
  if (!isArraySpec(value) || value.shape.length < 2) return null;
  return [value.shape[0], value.shape[1]];
}

/** Integer factor that brings `side` up to at least `target` pixels (1 for large images). */
export function upscaleFactor(side: number, target: number): number {
  return Math.max(1, Math.min(8, Math.ceil(target / Math.max(1, side))));
}

/** Nearest-neighbour upsampling of an RGBA image by an integer factor. */
export function upsampleImage(img: RGBAImage, k: number): RGBAImage {
  if (k === 1) return img;
  const width = img.width * k;
  const height = img.height * k;
  const data = new Uint8ClampedArray(width * height * 4);
  const src = new Uint32Array(img.data.buffer, img.data.byteOffset, img.width * img.height);
  const dst = new Uint32Array(data.buffer);
  for (let y = 0; y < height; y++) {
    const sy = Math.floor(y / k) * img.width;
    for (let x = 0; x < width; x++) dst[y * width + x] = src[sy + Math.floor(x / k)];
  }
  return { width, height, data };
}
