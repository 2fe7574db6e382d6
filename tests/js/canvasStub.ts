// jsdom has no canvas: a tiny 2D context that keeps the last putImageData pixels on the canvas, so tests
// can check what a view painted. Import this module first in tests that render canvases.

export const PIXELS = new WeakMap<HTMLCanvasElement, Uint8ClampedArray>();

function fakeContext(canvas: HTMLCanvasElement) {
  return {
    fillStyle: "",
    fillRect: () => undefined,
    drawImage: () => undefined,
    createImageData: (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    getImageData: (_x: number, _y: number, w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    putImageData: (img: { data: Uint8ClampedArray }) => PIXELS.set(canvas, img.data.slice()),
  };
}

Object.defineProperty(HTMLCanvasElement.prototype, "getContext", {
  configurable: true,
  value(this: HTMLCanvasElement) {
    return fakeContext(this);
  },
});

/** The pixels last painted into a canvas, as RGB triples of its first `n` pixels. */
export function pixelsOf(canvas: Element | null): number[] {
  const px = canvas ? PIXELS.get(canvas as HTMLCanvasElement) : undefined;
  return px ? Array.from(px) : [];
}
import { setSyncFrames } from "../../js/lib/frame";
setSyncFrames(true);
