// Minimal SVG charting: elements, linear/log scales and the axis frame. Text goes through textContent
// only. Ticks and tick labels live in ticks.ts (niceScale, niceAxes): one tick system for every view.

const NS = "http://www.w3.org/2000/svg";

export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | undefined> = {},
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const noTicks = (): number[] => [];

export interface Scale {
  (v: number): number;
  invert(px: number): number;
  ticks(count?: number): number[];
  domain: [number, number];
  log: boolean;
}

/** A linear (or log10) scale from domain [d0, d1] to pixels [r0, r1]; no ticks (niceScale adds them). */
export function scale(d0: number, d1: number, r0: number, r1: number, log = false): Scale {
  if (log) {
    const l0 = Math.log10(d0);
    const l1 = Math.log10(d1);
    const span = l1 - l0 || 1;
    const fn = (v: number): number => r0 + ((Math.log10(Math.max(v, d0 * 1e-3)) - l0) / span) * (r1 - r0);
    return Object.assign(fn, {
      invert: (px: number) => 10 ** (l0 + ((px - r0) / (r1 - r0)) * span),
      ticks: noTicks,
      domain: [d0, d1] as [number, number],
      log: true,
    });
  }
  const span = d1 - d0 || 1;
  const fn = (v: number): number => r0 + ((v - d0) / span) * (r1 - r0);
  return Object.assign(fn, {
    invert: (px: number) => d0 + ((px - r0) / (r1 - r0)) * span,
    ticks: noTicks,
    domain: [d0, d1] as [number, number],
    log: false,
  });
}

/** Finite extent of several arrays (positive values only when `positive`). */
export function extent(arrays: ArrayLike<number>[], positive = false): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (!Number.isFinite(v) || (positive && v <= 0)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo)) return positive ? [1e-3, 1] : [0, 1];
  if (lo === hi) return positive ? [lo / 2, hi * 2] : [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The plot box's edges in SVG units: x0 left, x1 right, y0 bottom, y1 top. */
export interface PlotBox {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Clear `g` and draw the axis corner (left and bottom lines) of frame `f`; returns the plot box. */
export function axisFrame(g: SVGGElement, f: Frame): PlotBox {
  g.replaceChildren();
  const x0 = f.left;
  const x1 = f.width - f.right;
  const y0 = f.height - f.bottom;
  const y1 = f.top;
  g.append(s("path", { d: `M${x0},${y1}V${y0}H${x1}`, class: "xl-axis", fill: "none" }));
  return { x0, x1, y0, y1 };
}

/** The axis titles: `xLabel` under the x axis, `yLabel` rotated beside the y axis (empty: none). */
export function axisLabels(g: SVGGElement, f: Frame, b: PlotBox, xLabel: string, yLabel: string): void {
  if (xLabel) g.append(s("text", { x: (b.x0 + b.x1) / 2, y: f.height - 3, "text-anchor": "middle", class: "xl-label" }, xLabel));
  if (yLabel) {
    g.append(s("text", {
      x: -(b.y0 + b.y1) / 2, y: 11, transform: "rotate(-90)", "text-anchor": "middle", class: "xl-label",
    }, yLabel));
  }
}

/** An SVG path through (xs[i], ys[i]); non-finite points break the line. */
export function linePath(xs: ArrayLike<number>, ys: ArrayLike<number>, x: Scale, y: Scale): string {
  let d = "";
  let pen = false;
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const xv = xs[i];
    const yv = ys[i];
    if (!Number.isFinite(xv) || !Number.isFinite(yv) || (y.log && yv <= 0) || (x.log && xv <= 0)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${x(xv).toFixed(1)},${y(yv).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** Pointer position in the SVG's own coordinates (viewBox units). */
export function svgPoint(svg: SVGSVGElement, ev: MouseEvent, f: Frame): [number, number] {
  const r = svg.getBoundingClientRect();
  const sx = r.width ? f.width / r.width : 1;
  const sy = r.height ? f.height / r.height : 1;
  return [(ev.clientX - r.left) * sx, (ev.clientY - r.top) * sy];
}
