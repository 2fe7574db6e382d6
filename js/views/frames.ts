// A clip's explanation: one frame at a time with its map (frame scrubber: slider, ◀ ▶ buttons, arrow
// keys, or a click on the temporal curve), the temporal reliance curve (per frame: the map's share of
// mass and the drop of the explained value when that frame alone is removed), the token strip and the
// insertion/deletion curves, all linked on the bus ("frame", "token", "step", "mode").

import { vector } from "../lib/arrays";
import { type Bus, disposer } from "../lib/bus";
import { CATEGORICAL } from "../lib/colors";
import { h } from "../lib/dom";
import { fmt, pct } from "../lib/format";
import { s } from "../lib/svg";
import { renderCurves } from "./curves";
import { contrastTitle, type ExplanationData } from "./explanation";
import { renderImageOverlay } from "./imageOverlay";
import { renderTokenStrip } from "./tokenStrip";

export interface FrameCrop {
  image?: unknown;
  labels?: unknown;
  pixel_map?: unknown;
}

export interface FramesData extends ExplanationData {
  frames?: FrameCrop[];
  n_frames?: number;
  n_regions?: number;
  temporal?: { mass?: unknown; effect?: unknown; value?: string; value_full?: number };
  decisive?: number;
}

export interface TemporalRow {
  frame: number;
  mass: number;
  effect: number;
}

/** One row per frame of the temporal curve (NaN where a reading is missing). */
export function temporalRows(data: FramesData): TemporalRow[] {
  const n = Array.isArray(data.frames) ? data.frames.length : 0;
  const mass = vector(data.temporal?.mass);
  const effect = vector(data.temporal?.effect);
  const out: TemporalRow[] = [];
  for (let i = 0; i < n; i++) out.push({ frame: i, mass: mass[i] ?? NaN, effect: effect[i] ?? NaN });
  return out;
}

/** The frame the temporal curve says the answer rests on most (largest map mass; -1 if unknown). */
export function topFrame(rows: TemporalRow[], key: "mass" | "effect" = "mass"): number {
  let best = -1;
  for (const r of rows) if (Number.isFinite(r[key]) && (best < 0 || r[key] > rows[best][key])) best = r.frame;
  return best;
}

/** The scrubber's caption, e.g. "frame 3 of 4 · map mass 88% · removing it: −0.99". */
export function frameCaption(rows: TemporalRow[], i: number, value = "probability"): string {
  const r = rows[i];
  if (!r) return "";
  const parts = [`frame ${i + 1} of ${rows.length}`];
  if (Number.isFinite(r.mass)) parts.push(`map mass ${pct(r.mass)}`);
  if (Number.isFinite(r.effect)) {
    const v = -r.effect;
    const sign = Math.abs(v) < 0.005 ? "" : v > 0 ? "+" : "−"; // no "−0.00" for a frame that changes nothing
    parts.push(`removing it changes the ${value} by ${sign}${Math.abs(v).toFixed(2)}`);
  }
  return parts.join(" · ");
}

const BUTTON =
  "font:inherit;color:var(--xl-fg);background:var(--xl-bg);border:1px solid var(--xl-border);" +
  "border-radius:3px;padding:0 8px;cursor:pointer";
const [MASS, EFFECT] = CATEGORICAL;

function temporalChart(rows: TemporalRow[], decisive: number, pick: (i: number) => void): {
  svg: SVGSVGElement;
  select: (i: number) => void;
} {
  const W = 300;
  const H = 150;
  const pad = { l: 30, r: 8, t: 10, b: 26 };
  const n = Math.max(rows.length, 1);
  const band = (W - pad.l - pad.r) / n;
  const y = (v: number): number => pad.t + (1 - Math.max(0, Math.min(1, v))) * (H - pad.t - pad.b);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "xl-chart", role: "img" });
  svg.append(s("title", {}, "temporal reliance: map mass and removal effect per frame"));
  for (const v of [0, 0.5, 1]) {
    svg.append(s("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: "xl-grid" }));
    svg.append(s("text", { x: pad.l - 4, y: y(v) + 3, "text-anchor": "end", "font-size": 9, fill: "currentColor" }, fmt(v, 1)));
  }
  const hi = s("rect", { y: pad.t - 4, height: H - pad.t - pad.b + 8, width: band, fill: "none", stroke: "currentColor", "stroke-width": 1.5, rx: 3 });
  svg.append(hi);
  for (const r of rows) {
    const x0 = pad.l + r.frame * band;
    const w = band * 0.34;
    const g = s("g", { "data-frame": r.frame, style: "cursor:pointer" });
    g.append(s("rect", { x: x0, y: pad.t, width: band, height: H - pad.t - pad.b, fill: "transparent" }));
    if (Number.isFinite(r.mass)) {
      g.append(s("rect", { x: x0 + band * 0.14, y: y(r.mass), width: w, height: y(0) - y(r.mass), fill: MASS }));
    }
    if (Number.isFinite(r.effect)) {
      const top = y(Math.max(r.effect, 0));
      g.append(s("rect", { x: x0 + band * 0.52, y: top, width: w, height: Math.max(y(0) - top, 1), fill: EFFECT }));
    }
    const label = `${r.frame + 1}${r.frame === decisive ? " ★" : ""}`;
    g.append(s("text", { x: x0 + band / 2, y: H - pad.b + 13, "text-anchor": "middle", "font-size": 10, fill: "currentColor" }, label));
    g.addEventListener("click", () => pick(r.frame));
    svg.append(g);
  }
  svg.append(s("line", { x1: pad.l, x2: W - pad.r, y1: y(0), y2: y(0), class: "xl-axis" }));
  const select = (i: number): void => {
    hi.setAttribute("x", String(pad.l + i * band));
  };
  return { svg, select };
}

export function renderFrames(el: HTMLElement, data: FramesData, bus: Bus): () => void {
  const d = disposer();
  const frames = Array.isArray(data.frames) ? data.frames : [];
  if (!frames.length) {
    el.append(h("div", { class: "xl-error" }, ["xattr-lab: this result has no frames"]));
    return () => undefined;
  }
  const rows = temporalRows(data);
  const value = String(data.temporal?.value ?? "probability");
  const decisive = Number.isInteger(data.decisive) ? Number(data.decisive) : -1;
  const n = frames.length;
  const stripBox = h("div", { class: "xl-section" });
  const frameBox = h("div", { class: "xl-section xl-frame" });
  const curvesBox = h("div", { class: "xl-section" });
  const slider = h("input", { type: "range", min: 0, max: n - 1, step: 1, value: 0, "aria-label": "frame" });
  const prev = h("button", { type: "button", class: "xl-frame-btn", style: BUTTON, "aria-label": "previous frame" }, ["◀"]);
  const next = h("button", { type: "button", class: "xl-frame-btn", style: BUTTON, "aria-label": "next frame" }, ["▶"]);
  const caption = h("div", { class: "xl-status xl-frame-caption", "aria-live": "polite" });
  const chart = temporalChart(rows, decisive, (i) => bus.set("frame", i, "chart"));
  const legendRow = h("div", { class: "xl-legend" }, [
    h("span", { style: `color:${MASS}` }, ["■"]),
    h("span", {}, ["map mass"]),
    h("span", { style: `color:${EFFECT}` }, ["■"]),
    h("span", {}, [`drop of the ${value} without the frame`]),
    decisive >= 0 ? h("span", {}, ["· ★ decisive frame (ground truth)"]) : null,
  ]);
  const contrast = contrastTitle(data);
  const root = h("div", { class: "xl-panel xl-frames", tabindex: 0 }, [
    contrast ? h("div", { class: "xl-title xl-contrast" }, [contrast]) : null,
    stripBox,
    h("div", { class: "xl-controls", style: "max-width:420px" }, [prev, h("label", { class: "xl-grow" }, [slider]), next]),
    caption,
    h("div", { class: "xl-row" }, [
      frameBox,
      h("div", { class: "xl-panel" }, [h("div", { class: "xl-subtitle" }, ["temporal reliance"]), chart.svg, legendRow]),
      curvesBox,
    ]),
  ]);
  el.append(root);
  if (bus.get("step") < 0) {
    const ins = data.insertion as { shape?: number[] } | undefined;
    const steps = ins?.shape ? ins.shape[ins.shape.length - 1] - 1 : -1;
    if (steps >= 0) bus.set("step", steps, "init");
  }
  let disposeFrame: () => void = () => undefined;
  const show = (i: number): void => {
    disposeFrame();
    frameBox.replaceChildren();
    const crop = frames[i] ?? {};
    disposeFrame = renderImageOverlay(frameBox, { ...data, ...crop, n_regions: data.n_regions } as never, bus);
    slider.value = String(i);
    caption.textContent = frameCaption(rows, i, value);
    chart.select(i);
    prev.disabled = i <= 0;
    next.disabled = i >= n - 1;
  };
  const clamp = (i: number): number => Math.max(0, Math.min(n - 1, Math.round(i)));
  slider.addEventListener("input", () => bus.set("frame", clamp(Number(slider.value)), "slider"));
  prev.addEventListener("click", () => bus.set("frame", clamp(bus.get("frame") - 1), "button"));
  next.addEventListener("click", () => bus.set("frame", clamp(bus.get("frame") + 1), "button"));
  root.addEventListener("keydown", (ev) => {
    if (ev.target !== root) return;
    if (ev.key === "ArrowLeft") bus.set("frame", clamp(bus.get("frame") - 1), "key");
    if (ev.key === "ArrowRight") bus.set("frame", clamp(bus.get("frame") + 1), "key");
  });
  d.add(bus.on("frame", (i) => show(clamp(i))));
  d.add(renderTokenStrip(stripBox, { ...data, tokens: data.tokens ?? [] } as never, bus));
  d.add(renderCurves(curvesBox, data, bus));
  const start = bus.get("frame");
  const first = start >= 0 ? clamp(start) : Math.max(topFrame(rows), 0);
  if (bus.get("frame") !== first) bus.set("frame", first, "init");
  else show(first);
  return () => {
    disposeFrame();
    d.run();
    root.remove();
  };
}
