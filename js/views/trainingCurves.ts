// Training curves: series against the step, one panel per quantity (losses, accuracy, norms, geometry …),
// each with its own legend and log-y toggle; a shared log-x toggle (bus key "logx"); numbered event markers
// whose names are listed under the panels (so labels never overlap or clip); a hover readout; and live
// append through the bus event "append" ({steps: number[], values: {name: number[]}}) sent by the widget.
// Colours come from the series NAME (lib/series.ts), so the live and the saved view agree. Hidden series
// ("hide:<name>") and per-panel log scales ("logy:<panel>") live on the bus and survive a payload refresh.

import { vector } from "../lib/arrays";
import { type Bus, disposer } from "../lib/bus";
import { h } from "../lib/dom";
import { BADGE_HEIGHT, layoutEvents } from "../lib/eventLabels";
import { fmt } from "../lib/format";
import { scheduler } from "../lib/frame";
import { defaultPanels, groupOf, type PanelSpec, seriesColour } from "../lib/series";
import { extent, type Frame, linePath, s, type Scale, scale, svgPoint } from "../lib/svg";
import { niceAxes, niceDomain, niceScale } from "../lib/ticks";
import { ensureTrainingStyle } from "../lib/trainingStyle";

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

/** Events with a finite step, sorted by step then name (their 1-based position is their badge number). */
export function sortedEvents(events: TrainingData["events"]): [string, number][] {
  return Object.entries(events ?? {})
    .filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1]))
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
}

interface Chart {
  p: PanelSpec;
  f: Frame;
  svg: SVGSVGElement;
  axisG: SVGGElement;
  eventsG: SVGGElement;
  linesG: SVGGElement;
  cursor: SVGPathElement;
  key: HTMLElement;
  logBox: HTMLInputElement;
  box: HTMLElement;
  x: Scale;
}

export function renderTrainingCurves(el: HTMLElement, data: TrainingData, bus: Bus): () => void {
  ensureTrainingStyle(el.ownerDocument);
  const d = disposer();
  const steps: number[] = Array.from(vector(data.steps));
  const names = Array.isArray(data.names) ? data.names.map(String) : Object.keys(data.series ?? {});
  const values = new Map<string, number[]>(names.map((n) => [n, Array.from(vector(data.series?.[n]))]));
  const label = (n: string): string => data.labels?.[n] ?? n;
  const hidden = (n: string): boolean => bus.get(`hide:${n}`) === 1;
  const given = Array.isArray(data.panels) && data.panels.length
    ? data.panels.map((p, i) => ({ title: String(p.title ?? `panel ${i + 1}`), names: p.names.map(String), log_y: p.log_y === true }))
    : defaultPanels(names);
  const events = sortedEvents(data.events);

  const logx = h("input", { type: "checkbox", "aria-label": "log x" });
  const row = h("div", { class: "xl-row" });
  const eventList = h("ol", { class: "xl-events", "aria-label": "events" });
  const status = h("div", { class: "xl-status", "aria-live": "polite" });
  const root = h("div", { class: "xl-panel xl-training" }, [
    h("div", { class: "xl-controls" }, [h("label", {}, [logx, " log x (step)"])]),
    row,
    eventList,
    status,
  ]);
  el.append(root);
  const charts: Chart[] = [];

  const logKey = (c: Chart): string => `logy:${c.p.title}`;
  const wantsLog = (c: Chart): boolean => {
    const v = bus.get(logKey(c));
    return v === -1 ? c.p.log_y === true : v === 1;
  };

  function addChart(p: PanelSpec): Chart {
    const f: Frame = { width: 420, height: 200, left: 52, right: 12, top: 8, bottom: 32 };
    const svg = s("svg", { viewBox: `0 0 ${f.width} ${f.height}`, class: "xl-chart xl-wide", role: "img", "data-panel": p.title });
    const axisG = s("g");
    const eventsG = s("g", { class: "xl-events-g" });
    const linesG = s("g");
    const cursor = s("path", { class: "xl-cursor" });
    svg.append(axisG, linesG, eventsG, cursor);
    const logBox = h("input", { type: "checkbox", "aria-label": `log y: ${p.title}` });
    const key = h("div", { class: "xl-key", "data-panel": p.title });
    const head = h("div", { class: "xl-panel-head" }, [h("div", { class: "xl-subtitle" }, [p.title]), h("label", {}, [logBox, " log y"])]);
    const box = h("div", { class: "xl-panel", "data-panel": p.title }, [head, key, svg]);
    const c: Chart = { p, f, svg, axisG, eventsG, linesG, cursor, key, logBox, box, x: scale(0, 1, 0, 1) };
    const onLog = (): void => bus.set(logKey(c), logBox.checked ? 1 : 0, "training");
    logBox.addEventListener("change", onLog);
    d.add(() => logBox.removeEventListener("change", onLog));
    d.add(bus.on(logKey(c), schedule));
    const move = (ev: MouseEvent): void => hover(c, ev);
    svg.addEventListener("mousemove", move);
    d.add(() => svg.removeEventListener("mousemove", move));
    row.append(box);
    charts.push(c);
    return c;
  }

  // The legend of each panel: one chip per series, toggling it (state on the bus).
  const buildKey = (c: Chart): void => {
    c.key.replaceChildren(...c.p.names.filter((n) => values.has(n)).map((n) => {
      const chip = h("button", { type: "button", class: "xl-chip", "data-series": n, "aria-pressed": String(!hidden(n)) }, [label(n)]);
      chip.style.setProperty("--xl-chip", seriesColour(n));
      chip.classList.toggle("xl-off", hidden(n));
      return chip;
    }));
  };
  const onKey = (ev: Event): void => {
    const chip = (ev.target as HTMLElement).closest("[data-series]");
    if (!chip) return;
    const n = chip.getAttribute("data-series")!;
    bus.set(`hide:${n}`, hidden(n) ? 0 : 1, "training");
  };
  row.addEventListener("click", onKey);
  d.add(() => row.removeEventListener("click", onKey));

  const buildEvents = (): void => {
    eventList.replaceChildren(...events.map(([name, st], i) => h("li", { "data-event": String(i) }, [
      h("span", { class: "xl-ev-num" }, [String(i + 1)]), h("code", {}, [name]), h("span", { class: "xl-ev-step" }, [`step ${fmt(st, 6)}`]),
    ])));
    eventList.hidden = events.length === 0;
  };
  const highlight = (ev: Event, on: boolean): void => {
    const li = (ev.target as HTMLElement).closest?.("li[data-event]");
    if (!li) return;
    const i = li.getAttribute("data-event")!;
    for (const m of root.querySelectorAll(`[data-events~="${i}"]`)) m.classList.toggle("xl-ev-hot", on);
  };
  const over = (ev: Event): void => highlight(ev, true);
  const out = (ev: Event): void => highlight(ev, false);
  eventList.addEventListener("mouseover", over);
  eventList.addEventListener("mouseout", out);
  d.add(() => {
    eventList.removeEventListener("mouseover", over);
    eventList.removeEventListener("mouseout", out);
  });

  function drawChart(c: Chart, lx: boolean): void {
    const { f } = c;
    const shown = c.p.names.filter((n) => values.has(n) && !hidden(n));
    const arrays = shown.map((n) => values.get(n)!);
    // Log y only where every shown value is positive; otherwise the box is disabled and the axis linear.
    const positive = arrays.every((a) => a.every((v) => !Number.isFinite(v) || v > 0));
    c.logBox.disabled = !positive;
    const ly = positive && wantsLog(c);
    c.logBox.checked = ly;
    const [xa, xb] = extent([steps], lx);
    const x = niceScale(xa, xb, f.left, f.width - f.right, lx);
    // Event badges sit in a band above the plot area (at most 3 rows), so they never cover the data.
    const band = { left: f.left, right: f.width - f.right, top: 2, bottom: 2 + 3 * (BADGE_HEIGHT + 2) };
    const marks = layoutEvents(events.map(([, st]) => (lx && st <= 0 ? NaN : x(st))), band);
    f.top = marks.length ? 2 + (Math.max(...marks.map((m) => m.row)) + 1) * (BADGE_HEIGHT + 2) + 4 : 8;
    let y: Scale;
    if (ly) {
      const [ya, yb] = extent(arrays, true);
      y = niceScale(ya / 1.15, yb * 1.15, f.height - f.bottom, f.top, true);
    } else {
      const [ya, yb] = niceDomain(...extent(arrays), 4);
      y = niceScale(ya, yb, f.height - f.bottom, f.top);
    }
    c.x = x;
    niceAxes(c.axisG, f, x, y, data.x_label ?? "step", "");
    c.linesG.replaceChildren(...shown.map((n) => {
      const [dx, dy] = decimate(steps, values.get(n)!, 400);
      return s("path", { d: linePath(dx, dy, x, y), stroke: seriesColour(n), "stroke-width": 1.6, fill: "none", class: "xl-line", "data-series": n });
    }));
    c.eventsG.replaceChildren();
    for (const m of marks) {
      const ids = m.events.join(" ");
      const names = m.events.map((i) => events[i][0]).join(", ");
      c.eventsG.append(s("path", { d: `M${m.x.toFixed(1)},${m.box.y + BADGE_HEIGHT}V${f.height - f.bottom}`, class: "xl-event", "data-events": ids }));
      const badge = s("g", { class: "xl-ev-badge", "data-events": ids });
      badge.append(
        s("title", {}, `${names} (step ${fmt(events[m.events[0]][1], 6)})`),
        s("rect", { x: m.box.x.toFixed(1), y: m.box.y, width: m.box.width, height: m.box.height, rx: 2 }),
        s("text", { x: (m.box.x + m.box.width / 2).toFixed(1), y: m.box.y + m.box.height - 3, "text-anchor": "middle" }, m.text),
      );
      c.eventsG.append(badge);
    }
    c.svg.setAttribute("aria-label", `${c.p.title}: ${shown.map(label).join(", ")}`);
    c.svg.dataset.points = String(steps.length);
    c.svg.dataset.logy = ly ? "1" : "0";
  }

  function draw(): void {
    logx.checked = bus.get("logx") === 1;
    for (const c of charts) {
      buildKey(c);
      drawChart(c, logx.checked);
    }
  }
  const frames = scheduler(draw);
  function schedule(): void {
    frames.schedule();
  }

  const nearest = (v: number): number => {
    let lo = 0, hi = steps.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (steps[mid] < v) lo = mid;
      else hi = mid;
    }
    return Math.abs(steps[lo] - v) <= Math.abs(steps[hi] - v) ? lo : hi;
  };
  function hover(c: Chart, ev: MouseEvent): void {
    if (!steps.length) return;
    const [px] = svgPoint(c.svg, ev, c.f);
    const i = nearest(c.x.invert(px));
    const parts = c.p.names.filter((n) => values.has(n) && !hidden(n)).map((n) => `${label(n)} ${fmt(values.get(n)![i])}`);
    status.textContent = `step ${steps[i]}: ${parts.join(" · ")}`;
    for (const cc of charts) cc.cursor.setAttribute("d", `M${cc.x(steps[i])},${cc.f.top}V${cc.f.height - cc.f.bottom}`);
  }

  for (const p of given) addChart(p);
  buildEvents();
  const tx = (): void => bus.set("logx", logx.checked ? 1 : 0, "training");
  logx.addEventListener("change", tx);
  d.add(() => logx.removeEventListener("change", tx));
  d.add(bus.on("logx", schedule));
  for (const n of names) d.add(bus.on(`hide:${n}`, schedule));
  d.add(bus.listen("append", (detail) => {
    const a = detail as AppendDetail;
    if (!a || !Array.isArray(a.steps)) return;
    for (let i = 0; i < a.steps.length; i++) {
      steps.push(Number(a.steps[i]));
      for (const n of names) values.get(n)!.push(Number(a.values?.[n]?.[i] ?? NaN));
    }
    for (const n of Object.keys(a.values ?? {})) {
      if (values.has(n)) continue;
      // A series first seen live joins the panel of its quantity (created if needed), as in the saved view.
      names.push(n);
      const filled = new Array<number>(steps.length - a.steps.length).fill(NaN).concat(a.values[n].map(Number));
      values.set(n, filled);
      const g = groupOf(n);
      const c = charts.find((cc) => cc.p.title === g.title) ?? addChart({ title: g.title, names: [], log_y: g.log_y });
      c.p.names.push(n);
      d.add(bus.on(`hide:${n}`, schedule));
    }
    status.textContent = `${steps.length} points, last step ${steps[steps.length - 1]}`;
    schedule();
  }));
  draw();
  return () => {
    frames.cancel();
    d.run();
    root.remove();
  };
}
