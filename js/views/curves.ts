// Insertion and deletion curves of the selected token (or the mean over tokens) against the revealed
// area, with their AUC. A marker follows the "step" on the bus; clicking or dragging sets it.

import { cachedArray, type NDArray, row } from "../lib/arrays";
import { type Bus, disposer } from "../lib/bus";
import { CATEGORICAL } from "../lib/colors";
import { h } from "../lib/dom";
import { fmt, pct } from "../lib/format";
import { auc } from "../lib/regions";
import { rowMap } from "../lib/rows";
import { type Frame, linePath, s, svgPoint } from "../lib/svg";
import { linearTicks, niceAxes, niceScale } from "../lib/ticks";

export interface CurvesData {
  insertion?: unknown;
  deletion?: unknown;
  area?: unknown;
  tokens?: string[];
  targets?: unknown;
}

// Blue and red of the categorical palette.
const [INS, DEL] = [CATEGORICAL[0], CATEGORICAL[3]];

function curveOf(arr: NDArray | null, token: number): Float64Array | null {
  if (!arr) return null;
  if (arr.shape.length === 1) return Float64Array.from(arr.data);
  const [tokens, n] = arr.shape;
  if (token >= 0 && token < tokens) return Float64Array.from(row(arr, token));
  const mean = new Float64Array(n);
  for (let t = 0; t < tokens; t++) {
    const c = row(arr, t);
    for (let i = 0; i < n; i++) mean[i] += c[i] / tokens;
  }
  return mean;
}

export function renderCurves(el: HTMLElement, data: CurvesData, bus: Bus): () => void {
  const d = disposer();
  const ins = cachedArray(data.insertion);
  const del = cachedArray(data.deletion);
  const areaArr = cachedArray(data.area);
  const tokens = Array.isArray(data.tokens) ? data.tokens.map(String) : [];
  const n = (ins ?? del)?.shape.slice(-1)[0] ?? 0;
  const rows = rowMap(data.targets, (ins ?? del)?.shape.length === 2 ? (ins ?? del)!.shape[0] : 1);
  const f: Frame = { width: 340, height: 220, left: 44, right: 12, top: 10, bottom: 34 };
  const x = niceScale(0, 1, f.left, f.width - f.right);
  const svg = s("svg", { viewBox: `0 0 ${f.width} ${f.height}`, class: "xl-chart", role: "img" });
  const axisG = s("g");
  const lines = s("g");
  const marker = s("g", { class: "xl-marker" });
  svg.append(axisG, lines, marker);
  const key = h("div", { class: "xl-key" });
  const status = h("div", { class: "xl-status", "aria-live": "polite" });
  const root = h("div", { class: "xl-panel xl-curves" }, [svg, key, status]);
  el.append(root);
  if (!n) {
    status.textContent = "no insertion/deletion curves in this result";
    return () => root.remove();
  }

  const xsFor = (token: number): Float64Array => {
    if (areaArr) return Float64Array.from(areaArr.shape.length === 2 ? row(areaArr, Math.max(0, rows.rowOf(token))) : areaArr.data);
    return Float64Array.from({ length: n }, (_, i) => i / (n - 1 || 1));
  };

  function draw(): void {
    const token = bus.get("token");
    const r = rows.rowOf(token);
    const xs = xsFor(token);
    let hi = 0;
    const ci = curveOf(ins, r);
    const cd = curveOf(del, r);
    for (const c of [ci, cd]) if (c) for (const v of c) if (Number.isFinite(v) && v > hi) hi = v;
    // The y axis ends at the first round value above the highest point (≥ 3 ticks, never above 1).
    const top = hi > 0 ? Math.min(1, linearTicks(0, hi * 1.6, 4).find((t) => t >= hi) ?? hi) : 1;
    const yy = niceScale(0, top, f.height - f.bottom, f.top);
    niceAxes(axisG, f, x, yy, "fraction of image revealed / removed", "p(token)");
    lines.replaceChildren();
    key.replaceChildren();
    const mean = `mean of ${rows.rows} explained token${rows.rows === 1 ? "" : "s"}`;
    const label = r >= 0 && token < tokens.length
      ? JSON.stringify(tokens[token])
      : token >= 0 && token < tokens.length
        ? `${JSON.stringify(tokens[token])} was not explained: ${mean}`
        : mean;
    key.append(h("span", { class: "xl-key-title" }, [label]));
    for (const [c, colour, name] of [[ci, INS, "insertion"], [cd, DEL, "deletion"]] as const) {
      if (!c) continue;
      lines.append(s("path", { d: linePath(xs, c, x, yy), stroke: colour, "stroke-width": 2, fill: "none", class: `xl-line xl-${name}` }));
      const chip = h("span", { class: "xl-chip" }, [`${name} AUC ${fmt(auc(xs, c))}`]);
      chip.style.setProperty("--xl-chip", colour);
      key.append(chip);
    }
    const st = bus.get("step");
    const k = st < 0 || st >= n ? n - 1 : st;
    marker.replaceChildren(s("path", { d: `M${x(xs[k])},${f.top}V${f.height - f.bottom}`, class: "xl-cursor" }));
    for (const [c, colour] of [[ci, INS], [cd, DEL]] as const) {
      if (c && Number.isFinite(c[k])) marker.append(s("circle", { cx: x(xs[k]), cy: yy(c[k]), r: 3.5, fill: colour }));
    }
    status.textContent = `step ${k}/${n - 1} · ${pct(xs[k])} · insertion ${fmt(ci?.[k] ?? NaN)} · deletion ${fmt(cd?.[k] ?? NaN)}`;
    svg.setAttribute("aria-label", `insertion and deletion curves for ${label}`);
  }

  let dragging = false;
  const pick = (ev: MouseEvent): void => {
    const [px] = svgPoint(svg, ev, f);
    const xs = xsFor(bus.get("token"));
    const v = x.invert(px);
    let best = 0;
    for (let i = 1; i < xs.length; i++) if (Math.abs(xs[i] - v) < Math.abs(xs[best] - v)) best = i;
    bus.set("step", best, "curves");
  };
  const down = (ev: MouseEvent): void => {
    dragging = true;
    pick(ev);
  };
  const move = (ev: MouseEvent): void => {
    if (dragging) pick(ev);
  };
  const up = (): void => {
    dragging = false;
  };
  svg.addEventListener("mousedown", down);
  svg.addEventListener("mousemove", move);
  window.addEventListener("mouseup", up);
  d.add(() => {
    svg.removeEventListener("mousedown", down);
    svg.removeEventListener("mousemove", move);
    window.removeEventListener("mouseup", up);
  });
  for (const k of ["token", "step"]) d.add(bus.on(k, draw));
  draw();
  return () => {
    d.run();
    root.remove();
  };
}
