// "Nice numbers" ticks and axes: every axis gets at least three labelled ticks at round values (1, 2, 2.5
// or 5 times a power of ten on linear axes; 1-2-5 decades on log axes), and labels just precise enough to
// tell neighbouring ticks apart.

import { axisFrame, axisLabels, s, type Frame, type Scale, scale } from "./svg";

const STEPS = [1, 2, 2.5, 5, 10];

function stepFor(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  return (STEPS.find((m) => m * mag >= raw * (1 - 1e-9)) ?? 10) * mag;
}

/** The next smaller nice step (5 → 2.5 → 2 → 1 → 0.5 …). */
function smallerStep(step: number): number {
  const mag = 10 ** Math.floor(Math.log10(step) + 1e-9);
  const m = step / mag;
  const below = [...STEPS].reverse().find((v) => v < m * (1 - 1e-9));
  return below !== undefined ? below * mag : 0.5 * mag;
}

function ticksWithStep(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  for (let k = first; k * step <= hi + step * 1e-9 && out.length < 200; k++) {
    const v = Number((k * step).toPrecision(12));
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

/** Round values within [lo, hi]: about `count`, and never fewer than `min` for a non-empty span. */
export function linearTicks(lo: number, hi: number, count = 5, min = 3): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  let step = stepFor(hi - lo, count);
  let out = ticksWithStep(lo, hi, step);
  // Halve towards the next smaller nice step until there are enough ticks (the one-tick axis bug).
  for (let guard = 0; out.length < min && guard < 8; guard++) {
    step = smallerStep(step);
    out = ticksWithStep(lo, hi, step);
  }
  return out;
}

/** Ticks for a log axis on [lo, hi] (lo > 0): decades, then 1-2-5, then 1..9, then round linear values. */
export function logAxisTicks(lo: number, hi: number, min = 3): number[] {
  if (!(lo > 0) || !(hi > 0)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  const inside = (v: number): boolean => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  for (const mantissas of [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of mantissas) {
        const v = Number((m * 10 ** e).toPrecision(12));
        if (inside(v)) out.push(v);
      }
    }
    // Too many decade ticks crowd the axis: thin them to every k-th decade.
    if (out.length >= min) return mantissas.length === 1 && out.length > 8 ? out.filter((_, i) => i % Math.ceil(out.length / 6) === 0) : out;
  }
  return linearTicks(lo, hi, 4, min).filter((v) => v > 0);
}

/** Widen a linear domain to the nearest round values, so both ends carry a tick. */
export function niceDomain(lo: number, hi: number, count = 5): [number, number] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 0.5;
    return [lo - pad, hi + pad];
  }
  const step = stepFor(hi - lo, count);
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
}

/** Tick labels just precise enough to tell ticks apart ("0", "0.25", "0.5"; "1e-4"; "20k"). */
export function formatTicks(ticks: number[], log = false): string[] {
  if (!ticks.length) return [];
  const big = Math.max(...ticks.map(Math.abs));
  if (log || big >= 1e6 || (big > 0 && big < 1e-3)) {
    return ticks.map((v) => {
      const a = Math.abs(v);
      if (v === 0) return "0";
      if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(3)));
      return v.toExponential().replace(/\.?0+e/, "e").replace("e+", "e");
    });
  }
  // The fewest decimals that print every tick exactly (to a millionth of the tick gap).
  const gap = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : Math.abs(ticks[0]) || 1;
  let decimals = 0;
  while (decimals < 10 && ticks.some((v) => Math.abs(Number(v.toFixed(decimals)) - v) > gap * 1e-6)) decimals++;
  const thousands = big >= 1e4 && ticks.every((v) => Number.isInteger(v / 1000));
  return ticks.map((v) => {
    if (v === 0) return "0";
    if (thousands) return `${v / 1000}k`;
    return String(Number(v.toFixed(decimals)));
  });
}

/** A scale whose ticks() are the nice ticks above (at least `min` of them). */
export function niceScale(d0: number, d1: number, r0: number, r1: number, log = false, min = 3): Scale {
  const sc = scale(d0, d1, r0, r1, log);
  sc.ticks = (count = 5) => (log ? logAxisTicks(d0, d1, min) : linearTicks(d0, d1, count, min));
  return sc;
}

/** Draw x and y axes with nice ticks, grid lines and labels into `g` (replaces its children). */
export function niceAxes(g: SVGGElement, f: Frame, x: Scale, y: Scale, xLabel = "", yLabel = ""): void {
  const box = axisFrame(g, f);
  const { x0, x1, y0, y1 } = box;
  const xt = x.ticks(Math.max(3, Math.floor((x1 - x0) / 70))).filter((t) => x(t) >= x0 - 0.5 && x(t) <= x1 + 0.5);
  formatTicks(xt, x.log).forEach((label, i) => {
    const px = x(xt[i]);
    g.append(s("path", { d: `M${px},${y0}v4`, class: "xl-axis" }));
    g.append(s("path", { d: `M${px},${y0}V${y1}`, class: "xl-grid" }));
    g.append(s("text", { x: px, y: y0 + 15, "text-anchor": "middle", class: "xl-tick xl-xtick" }, label));
  });
  const yt = y.ticks(Math.max(3, Math.floor((y0 - y1) / 36))).filter((t) => y(t) <= y0 + 0.5 && y(t) >= y1 - 0.5);
  formatTicks(yt, y.log).forEach((label, i) => {
    const py = y(yt[i]);
    g.append(s("path", { d: `M${x0 - 4},${py}h4`, class: "xl-axis" }));
    g.append(s("path", { d: `M${x0},${py}H${x1}`, class: "xl-grid" }));
    g.append(s("text", { x: x0 - 6, y: py + 3.5, "text-anchor": "end", class: "xl-tick xl-ytick" }, label));
  });
  axisLabels(g, f, box, xLabel, yLabel);
}
