// Training curves: several series against the step, in panels, with log-x/log-y toggles (bus keys
// "logx"/"logy"), series toggles, event markers, a hover readout, and live append through the bus
// event "append" ({steps: number[], values: {name: number[]}}) sent by the widget.

import { vector } from "../lib/arrays";
import { type Bus, disposer } from "../lib/bus";
import { category } from "../lib/colors";
import { h } from "../lib/dom";
import { scheduler } from "../lib/frame";
import { fmt } from "../lib/format";
import { axes, extent, type Frame, linePath, s, scale, svgPoint } from "../lib/svg";

export interface TrainingData {
  steps?: unknown;
  series?: Record<string, unknown>;
  names?: string[];
  labels?: Record<string, string>;
  events?: Record<string, number | null>;
  panels?: { title?: string; names: string[]; log_y?: boolean }[];
  x_label?: string;
}

export interface AppendDetail {
  steps: number[];
  values: Record<string, number[]>;
}

/** Keep at most ~2 points per bucket (min and max) so long runs stay cheap to draw. */
export function decimate(xs: number[], ys: number[], buckets: number): [number[], number[]] {
  if (xs.length <= buckets * 2) return [xs, ys];
  const size = xs.length / buckets;
  const ox: number[] = [];
  const oy: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor(b * size);
    const hi = Math.min(xs.length, Math.floor((b + 1) * size));
    let imin = -1, imax = -1;
    for (let i = lo; i < hi; i++) {
      if (!Number.isFinite(ys[i])) continue;
      if (imin < 0 || ys[i] < ys[imin]) imin = i;
      if (imax < 0 || ys[i] > ys[imax]) imax = i;
    }
    if (imin < 0) {
      ox.push(xs[lo]);
      oy.push(NaN);
      continue;
    }
    for (const i of imin <= imax ? [imin, imax] : [imax, imin]) {
      ox.push(xs[i]);
      oy.push(ys[i]);
    }
  }
  return [ox, oy];
}

export function renderTrainingCurves(el: HTMLElement, data: TrainingData, bus: Bus): () => void {
  const d = disposer();
  const steps: number[] = Array.from(vector(data.steps));
  const names = Array.isArray(data.names) ? data.names.map(String) : Object.keys(data.series ?? {});
  const values = new Map<string, number[]>(names.map((n) => [n, Array.from(vector(data.series?.[n]))]));
  const label = (n: string): string => data.labels?.[n] ?? n;
  const colourOf = new Map(names.map((n, i) => [n, category(i)]));
  const hidden = new Set<string>();
  const panels = Array.isArray(data.panels) && data.panels.length
    ? data.panels.map((p) => ({ ...p, names: p.names.map(String) }))
    : [{ title: "", names: [...names] }];

  const logx = h("input", { type: "checkbox", "aria-label": "log x" });
  const logy = h("input", { type: "checkbox", "aria-label": "log y" });
  const key = h("div", { class: "xl-key" });
  const status = h("div", { class: "xl-status", "aria-live": "polite" });
  const charts = panels.map((p) => {
    const f: Frame = { width: 420, height: 200, left: 52, right: 12, top: 10, bottom: 34 };
    const svg = s("svg", { viewBox: `0 0 ${f.width} ${f.height}`, class: "xl-chart xl-wide", role: "img" });
    const axisG = s("g");
    const eventsG = s("g");
    const linesG = s("g");
    const cursor = s("path", { class: "xl-cursor" });
    svg.append(axisG, eventsG, linesG, cursor);
    return { p, f, svg, axisG, eventsG, linesG, cursor, x: scale(0, 1, 0, 1), box: h("div", { class: "xl-panel" }, [p.title ? h("div", { class: "xl-subtitle" }, [p.title]) : null, svg]) };
  });
  const root = h("div", { class: "xl-panel xl-training" }, [
    h("div", { class: "xl-controls" }, [h("label", {}, [logx, " log x"]), h("label", {}, [logy, " log y"]), key]),
    h("div", { class: "xl-row" }, charts.map((c) => c.box)),
    status,
  ]);
  el.append(root);

  const buildKey = (): void => {
    key.replaceChildren(...names.map((n) => {
      const chip = h("button", { type: "button", class: "xl-chip", "data-series": n, "aria-pressed": String(!hidden.has(n)) }, [label(n)]);
      chip.style.setProperty("--xl-chip", colourOf.get(n)!);
      chip.classList.toggle("xl-off", hidden.has(n));
      return chip;
    }));
  };
  const onKey = (ev: Event): void => {
    const chip = (ev.target as HTMLElement).closest("[data-series]");
    if (!chip) return;
    const n = chip.getAttribute("data-series")!;
    if (hidden.has(n)) hidden.delete(n);
    else hidden.add(n);
    buildKey();
    schedule();
  };
  key.addEventListener("click", onKey);
  d.add(() => key.removeEventListener("click", onKey));

  function draw(): void {
    logx.checked = bus.get("logx") === 1;
    logy.checked = bus.get("logy") === 1;
    const lx = logx.checked;
    for (const c of charts) {
      const shown = c.p.names.filter((n) => values.has(n) && !hidden.has(n));
      const ly = logy.checked || c.p.log_y === true;
      const [xa, xb] = extent([steps], lx);
      const [ya, yb] = extent(shown.map((n) => values.get(n)!), ly);
      const pad = ly ? 1 : 0;
      const x = scale(xa, xb, c.f.left, c.f.width - c.f.right, lx);
      const y = ly
        ? scale(ya / 1.2, yb * 1.2, c.f.height - c.f.bottom, c.f.top, true)
        : scale(ya - (yb - ya) * 0.05 * (1 - pad), yb + (yb - ya) * 0.05, c.f.height - c.f.bottom, c.f.top);
      c.x = x;
      axes(c.axisG, c.f, x, y, data.x_label ?? "step", "");
      c.linesG.replaceChildren(...shown.map((n) => {
        const [dx, dy] = decimate(steps, values.get(n)!, 400);
        return s("path", { d: linePath(dx, dy, x, y), stroke: colourOf.get(n), "stroke-width": 1.6, fill: "none", class: "xl-line", "data-series": n });
      }));
      c.eventsG.replaceChildren();
      for (const [name, st] of Object.entries(data.events ?? {})) {
        if (typeof st !== "number" || !Number.isFinite(st) || (lx && st <= 0)) continue;
        const px = x(st);
        if (px < c.f.left || px > c.f.width - c.f.right) continue;
        c.eventsG.append(s("path", { d: `M${px},${c.f.top}V${c.f.height - c.f.bottom}`, class: "xl-event" }));
        c.eventsG.append(s("text", { x: px + 3, y: c.f.top + 10, class: "xl-tick" }, name));
      }
      c.svg.setAttribute("aria-label", `${c.p.title ?? "training curves"}: ${shown.map(label).join(", ")}`);
      c.svg.dataset.points = String(steps.length);
    }
  }
  const frames = scheduler(draw);
  const schedule = (): void => frames.schedule();

  const nearest = (v: number): number => {
    let lo = 0, hi = steps.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (steps[mid] < v) lo = mid;
      else hi = mid;
    }
    return Math.abs(steps[lo] - v) <= Math.abs(steps[hi] - v) ? lo : hi;
  };
  for (const c of charts) {
    const move = (ev: MouseEvent): void => {
      if (!steps.length) return;
      const [px] = svgPoint(c.svg, ev, c.f);
      const i = nearest(c.x.invert(px));
      const parts = names.filter((n) => !hidden.has(n)).map((n) => `${label(n)} ${fmt(values.get(n)![i])}`);
      status.textContent = `step ${steps[i]}: ${parts.join(" · ")}`;
      for (const cc of charts) cc.cursor.setAttribute("d", `M${cc.x(steps[i])},${cc.f.top}V${cc.f.height - cc.f.bottom}`);
    };
    c.svg.addEventListener("mousemove", move);
    d.add(() => c.svg.removeEventListener("mousemove", move));
  }
  const onToggle = (key: string, box: HTMLInputElement) => (): void => bus.set(key, box.checked ? 1 : 0, "training");
  const tx = onToggle("logx", logx);
  const ty = onToggle("logy", logy);
  logx.addEventListener("change", tx);
  logy.addEventListener("change", ty);
  d.add(() => {
    logx.removeEventListener("change", tx);
    logy.removeEventListener("change", ty);
  });
  d.add(bus.on("logx", schedule));
  d.add(bus.on("logy", schedule));
  d.add(bus.listen("append", (detail) => {
    const a = detail as AppendDetail;
    if (!a || !Array.isArray(a.steps)) return;
    for (let i = 0; i < a.steps.length; i++) {
      steps.push(Number(a.steps[i]));
      for (const n of names) values.get(n)!.push(Number(a.values?.[n]?.[i] ?? NaN));
    }
    for (const n of Object.keys(a.values ?? {})) {
      if (values.has(n)) continue;
      names.push(n);
      colourOf.set(n, category(names.length - 1));
      const filled = new Array<number>(steps.length - a.steps.length).fill(NaN).concat(a.values[n].map(Number));
      values.set(n, filled);
      panels[panels.length - 1].names.push(n);
      buildKey();
    }
    status.textContent = `${steps.length} points, last step ${steps[steps.length - 1]}`;
    schedule();
  }));
  buildKey();
  draw();
  return () => {
    frames.cancel();
    d.run();
    root.remove();
  };
}
