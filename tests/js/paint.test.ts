import { describe, expect, it } from "vitest";
import { pixelsOf } from "./canvasStub";
import { regionsOf } from "../../js/lib/regions";
import { colourRGB, normaliser } from "../../js/lib/colors";
import { blendHeat, contours, lineColour, paintHeat, type RGB, shadeContour, shadeEdge } from "../../js/lib/paint";

// A 12×12 map: 1 on the 6×6 square [3, 8]², 0 elsewhere.
const W = 12;
const inSquare = (x: number, y: number): boolean => x >= 3 && x <= 8 && y >= 3 && y <= 8;
const values = Float32Array.from({ length: W * W }, (_, p) => (inSquare(p % W, Math.floor(p / W)) ? 1 : 0));
const norm = normaliser(values);
// Expected: a line two pixels wide just inside the square's edge; a one-pixel rim on both sides of it.
const onLine = (x: number, y: number): boolean => inSquare(x, y) && !(x >= 5 && x <= 6 && y >= 5 && y <= 6);
const nextTo = (x: number, y: number): boolean =>
  [[1, 0], [-1, 0], [0, 1], [0, -1]].some(([dx, dy]) => x + dx >= 0 && x + dx < W && onLine(x + dx, y + dy));
const pixelSet = (pred: (x: number, y: number) => boolean): number[] =>
  Array.from({ length: W * W }, (_, p) => p).filter((p) => pred(p % W, Math.floor(p / W)));

describe("contours of a square mask", () => {
  const iso = contours(values, norm, W, W);

  it("puts the iso-line only on the square's boundary pixels, with a rim beside it", () => {
    const line = pixelSet((x, y) => onLine(x, y));
    expect(line.length).toBe(32);
    expect(pixelSet((x, y) => !Number.isNaN(iso.line[y * W + x]))).toEqual(line);
    // One crossing between the lowest and highest of 5 bands: the top level, 4/5.
    for (const p of line) expect(iso.line[p]).toBeCloseTo(0.8, 6);
    expect(pixelSet((x, y) => iso.halo[y * W + x] === 1)).toEqual(pixelSet((x, y) => !onLine(x, y) && nextTo(x, y)));
  });

  it("shadeContour: the line's colour on a line, a quarter brightness beside it, untouched elsewhere", () => {
    const shaded = (p: number): RGB => {
      const c: RGB = [200, 100, 40];
      shadeContour(c, iso, p, norm);
      return c;
    };
    expect(shaded(3 * W + 3)).toEqual(lineColour(iso.line[3 * W + 3], norm)); // a corner of the square
    expect(shaded(3 * W + 2)).toEqual([50, 25, 10]); // just outside its left edge
    expect(shaded(5 * W + 5)).toEqual([50, 25, 10]); // the square's middle, inside the line
    expect(shaded(0)).toEqual([200, 100, 40]); // far away
  });

  it("paintHeat in the contour style changes only the line and its rim", () => {
    const canvas = document.createElement("canvas");
    canvas.width = W;
    canvas.height = W;
    paintHeat(canvas, null, values, norm, 0.65, null, "contours");
    const px = pixelsOf(canvas);
    const changed = pixelSet((x, y) => [0, 1, 2].some((k) => px[(y * W + x) * 4 + k] !== 128));
    expect(changed).toEqual(pixelSet((x, y) => onLine(x, y) || nextTo(x, y)));
    const [r, g, b] = lineColour(iso.line[3 * W + 3], norm).map((v) => Math.round(v));
    expect(px.slice(4 * (3 * W + 3), 4 * (3 * W + 3) + 4)).toEqual([r, g, b, 255]);
    expect(px.slice(4 * (3 * W + 2), 4 * (3 * W + 2) + 4)).toEqual([32, 32, 32, 255]);
  });
});

describe("blendHeat", () => {
  const blended = (v: number, n: typeof norm, alpha: number): RGB => {
    const c: RGB = [200, 100, 40];
    blendHeat(c, v, n, alpha);
    return c;
  };

  it("tints towards the scale's colour by alpha, and leaves non-finite values untouched", () => {
    expect(blended(1, norm, 1)).toEqual(colourRGB(1, "viridis"));
    expect(blended(1, norm, 0)).toEqual([200, 100, 40]);
    expect(blended(NaN, norm, 1)).toEqual([200, 100, 40]);
    const half = blended(0, norm, 0.5);
    const c0 = colourRGB(0, "viridis");
    half.forEach((v, k) => expect(v).toBeCloseTo((([200, 100, 40] as RGB)[k] + c0[k]) / 2, 9));
  });

  it("makes near-zero see-through on a diverging scale (a tenth of alpha at 0, all of it at the ends)", () => {
    const signed = normaliser([-2, 2], true);
    expect(signed.scale).toBe("coolwarm");
    const white = colourRGB(0.5, "coolwarm");
    blended(0, signed, 1).forEach((v, k) => expect(v).toBeCloseTo((([200, 100, 40] as RGB)[k]) * 0.9 + white[k] * 0.1, 9));
    expect(blended(2, signed, 1)).toEqual(colourRGB(1, "coolwarm"));
    expect(blended(-2, signed, 1)).toEqual(colourRGB(0, "coolwarm"));
  });
});

describe("shadeEdge", () => {
  it("keeps a share of the colour and adds a constant, so outlines read over any map colour", () => {
    const c: RGB = [200, 100, 0];
    shadeEdge(c, 0.6, 100);
    expect(c).toEqual([220, 160, 100]);
  });

  it("paintHeat lightens exactly the regions' edge pixels on a grey image", () => {
    const W2 = 4;
    // Two regions, the left and right halves: only the left half's last column borders the other.
    const regions = regionsOf({ data: Int32Array.from({ length: W2 * W2 }, (_, p) => (p % W2 < 2 ? 0 : 1)), shape: [W2, W2] });
    const edge = regions.edge;
    expect(Array.from(edge)).toEqual(Array.from({ length: W2 * W2 }, (_, p) => (p % W2 === 1 ? 1 : 0)));
    const canvas = document.createElement("canvas");
    canvas.width = W2;
    canvas.height = W2;
    paintHeat(canvas, null, null, norm, 0.65, regions);
    const px = pixelsOf(canvas);
    for (let p = 0; p < W2 * W2; p++) expect(px[4 * p]).toBe(edge[p] ? Math.round(128 * 0.6 + 100) : 128);
  });
});
