// Method comparison: one map per method, each on its OWN colour scale by default (its range in a small
// legend under it; a method with large raw scores would otherwise wash out every other map), with a
// button that puts all maps on one shared scale. Below: the token strip of the explained answer, coloured
// by the selected method's per-token figures, and a metric table (rows: metrics, columns: methods; the
// best of each row marked). Bus: "method" (cell, table column and strip colouring), "token" (the strip;
// the maps follow it when they are per token, and the readout lists every method's figures for it).

import { cachedArray, type NDArray, upsample2d } from "../lib/arrays";
import { type Bus, disposer } from "../lib/bus";
import { type Normaliser, normaliser } from "../lib/colors";
import { h } from "../lib/dom";
import { fmt } from "../lib/format";
import { decodeImage, imageShape, type RGBAImage, rawImage, upsampleImage, upscaleFactor } from "../lib/image";
import { legend } from "../lib/legend";
import { paintHeat } from "../lib/paint";
import { type MapSource, mapSource, regionsOf } from "../lib/regions";
import { rowMap } from "../lib/rows";
import { gridTable } from "../lib/table";
import { renderTokenStrip } from "./tokenStrip";

export interface ComparisonData {
  methods?: string[];
  image?: unknown;
  labels?: unknown;
  n_regions?: number;
  region_scores?: unknown; // [M, R] or [M, T, R]
  pixel_maps?: unknown; // [M, h, w] or [M, T, h, w]
  map_label?: string;
  signed?: boolean;
  metric_names?: string[];
  metric_values?: unknown; // [K, M]
  metric_better?: ("higher" | "lower" | null)[];
  tokens?: string[];
  prompt_tokens?: string[];
  /** Generated-token index of each explained token (rows of per-token maps and figures). */
  targets?: unknown;
  /** Per-token figures of each method: names [K] and values [K, M, T] (T explained tokens). */
  token_metric_names?: string[];
  token_metric_values?: unknown;
  /** Legacy: one score per generated token for the strip. */
  scores?: unknown;
  /** Initial colour scale: "method" (default) or "shared". */
  scale?: string;
  /** Initial overlay: "blend" (default) or "contours" (iso-lines over the unmodified image). */
  overlay?: string;
}

function slice(arr: NDArray | null, m: number): NDArray | null {
  if (!arr) return null;
  const inner = arr.shape.slice(1);
  const size = inner.reduce((a, b) => a * b, 1);
  return { data: arr.data.subarray(m * size, (m + 1) * size), shape: inner };
}

export function renderComparisonGrid(el: HTMLElement, data: ComparisonData, bus: Bus): () => void {
  const d = disposer();
  const methods = Array.isArray(data.methods) ? data.methods.map(String) : [];
  const M = methods.length;
  const labelsArr = cachedArray(data.labels);
  const shape = imageShape(data.image) ?? (labelsArr ? [labelsArr.shape[0], labelsArr.shape[1]] : [1, 1]);
  const k = upscaleFactor(Math.max(shape[0], shape[1]), 150);
  const [height, width] = [shape[0] * k, shape[1] * k];
  const regions = labelsArr && labelsArr.shape[0] === shape[0] && labelsArr.shape[1] === shape[1]
    ? regionsOf(upsample2d(labelsArr, k), data.n_regions)
    : null;
  const rs = cachedArray(data.region_scores);
  const pm = cachedArray(data.pixel_maps);
  const sources: (MapSource | null)[] = methods.map((_, m) =>
    mapSource(regions ? slice(rs, m) : null, slice(pm, m), regions, width, height),
  );
  const all: number[] = [];
  for (const src of sources) if (src) for (let i = 0; i < src.all.length; i++) all.push(src.all[i]);
  const sharedNorm = normaliser(all, data.signed);
  const ownNorms = sources.map((src) => (src ? normaliser(src.all, data.signed) : sharedNorm));
  const label = data.map_label ?? "attribution";
  const perToken = sources.some((s) => s?.perToken);
  const tokens = Array.isArray(data.tokens) ? data.tokens.map(String) : [];
  const explained = rowMap(data.targets, Math.max(tokens.length, ...sources.map((s) => s?.tokens ?? 0)));
  let shared = data.scale === "shared";

  // --- the grid: a cell per method (title, map, its own small legend) ---------------------------------
  const cells = methods.map((name, m) => {
    const canvas = h("canvas", { width, height, class: `xl-canvas xl-thumb${k > 1 ? " xl-pixelated" : ""}`, "aria-label": `${name} map` });
    const key = h("div", { class: "xl-cell-key" });
    const cell = h("button", { type: "button", class: "xl-cell", "data-method": m, title: name }, [
      h("span", { class: "xl-cell-title" }, [name]),
      canvas,
      key,
    ]);
    return { cell, canvas, key };
  });
  const grid = h("div", { class: "xl-grid" }, cells.map((c) => c.cell));
  const toggle = h("button", { type: "button", class: "xl-chip xl-scale-toggle", "aria-pressed": "false" });
  const scaleNote = h("span", { class: "xl-note" });
  const sharedKey = h("div");
  const styleSel = h("select", { "aria-label": "overlay" }, [
    h("option", { value: "blend" }, ["blend"]),
    h("option", { value: "contours" }, ["contours"]),
  ]);
  styleSel.value = data.overlay === "contours" ? "contours" : "blend";
  const head = h("div", { class: "xl-controls" }, [toggle, h("label", {}, ["overlay ", styleSel]), scaleNote, sharedKey]);
  const normOf = (m: number): Normaliser => (shared ? sharedNorm : ownNorms[m]);
  const paintScale = (): void => {
    toggle.textContent = shared ? "scale: shared by all methods" : "scale: one per method";
    toggle.setAttribute("aria-pressed", String(shared));
    toggle.title = shared ? "give each method its own colour scale" : "put every map on one shared colour scale";
    scaleNote.textContent = shared
      ? "one scale: colours compare across methods"
      : "each map on its own scale (range under it): compare where, not how much";
    sharedKey.replaceChildren(shared ? legend(sharedNorm, label) : h("span"));
    cells.forEach(({ key }, m) => key.replaceChildren(legend(normOf(m), `${methods[m]} ${label}`, { mini: true, width: 100 })));
  };

  // --- the token strip of the explained answer, coloured by the selected method's per-token figure ----
  const tmNames = Array.isArray(data.token_metric_names) ? data.token_metric_names.map(String) : [];
  const tmv = cachedArray(data.token_metric_values);
  const T = tmv && tmNames.length && M ? Math.floor(tmv.data.length / (tmNames.length * M)) : 0;
  const tm = (kk: number, m: number, r: number): number => (tmv && r >= 0 && r < T ? tmv.data[(kk * M + m) * T + r] : NaN);
  const metricSel = h("select", { "aria-label": "colour tokens by" });
  tmNames.forEach((n, i) => metricSel.append(h("option", { value: i }, [n])));
  const stripTitle = h("div", { class: "xl-subtitle" });
  const stripBox = h("div");
  const tokenReadout = h("div", { class: "xl-status xl-token-methods", "aria-live": "polite" });
  const stripPanel = tokens.length
    ? h("div", { class: "xl-section" }, [
      h("div", { class: "xl-controls" }, [stripTitle, tmNames.length > 1 ? h("label", {}, ["colour tokens by ", metricSel]) : null]),
      stripBox,
      tmNames.length ? tokenReadout : null,
    ])
    : null;
  const shownMethod = (): number => {
    const sel = bus.get("method");
    return sel >= 0 && sel < M ? sel : 0;
  };
  let stripCleanup: (() => void) | null = null;
  const drawStrip = (): void => {
    if (!stripPanel) return;
    stripCleanup?.();
    const m = shownMethod();
    const kk = Math.max(0, Number(metricSel.value) || 0);
    let scores: unknown = data.scores;
    let scoreLabel = "score";
    if (tmNames.length && M) {
      const vals = new Float32Array(tokens.length).fill(NaN);
      for (let i = 0; i < tokens.length; i++) vals[i] = tm(kk, m, explained.rowOf(i));
      scores = Array.from(vals);
      scoreLabel = `${tmNames[kk]} (${methods[m]})`;
      stripTitle.textContent = `explained answer: tokens coloured by ${methods[m]}'s ${tmNames[kk]}`;
    } else {
      stripTitle.textContent = "explained answer";
    }
    stripCleanup = renderTokenStrip(stripBox, {
      tokens, prompt_tokens: data.prompt_tokens, scores, score_label: scoreLabel, unscored_label: "not explained",
    }, bus);
  };
  const describeToken = (): void => {
    if (!tmNames.length) return;
    const tok = bus.get("token");
    const r = explained.rowOf(tok);
    const kk = Math.max(0, Number(metricSel.value) || 0);
    if (tok < 0 || tok >= tokens.length) {
      tokenReadout.textContent = "click a map to colour the tokens by that method; click a token to compare the methods on it";
      return;
    }
    if (r < 0) {
      tokenReadout.textContent = `token ${JSON.stringify(tokens[tok])} was not explained`;
      return;
    }
    const sel = bus.get("method");
    tokenReadout.replaceChildren(
      `${tmNames[kk]} of ${JSON.stringify(tokens[tok])}: `,
      ...methods.flatMap((name, m) => [
        m ? " · " : "",
        h("span", { class: m === sel ? "xl-best" : "", "data-method": m }, [`${name} ${fmt(tm(kk, m, r))}`]),
      ]),
    );
  };

  // --- the metric table ---------------------------------------------------------------------------------
  const names = Array.isArray(data.metric_names) ? data.metric_names.map(String) : [];
  const mv = cachedArray(data.metric_values);
  const rows = names.map((name, i) => ({
    name,
    values: mv ? mv.data.subarray(i * M, (i + 1) * M) : [],
    better: data.metric_better?.[i] ?? null,
  }));
  const table = rows.length ? gridTable(methods, rows) : null;
  const root = h("div", { class: "xl-panel xl-comparison" }, [head, grid, stripPanel, table]);
  el.append(root);

  const raw = rawImage(data.image);
  let image: RGBAImage | null = raw ? upsampleImage(raw, k) : null;
  const drawMaps = (): void => {
    const tok = bus.get("token");
    cells.forEach(({ canvas }, m) => {
      const src = sources[m];
      // Per-token maps follow the selected explained token (its row); otherwise the first row.
      const r = src?.perToken ? Math.max(0, explained.rowOf(tok)) : 0;
      const style = styleSel.value === "contours" ? "contours" : "blend";
      paintHeat(canvas, image, src?.pixels(r) ?? null, normOf(m), 0.65, style === "contours" ? null : regions, style);
    });
  };
  const drawSelection = (): void => {
    const sel = bus.get("method");
    cells.forEach(({ cell }, m) => {
      cell.classList.toggle("xl-sel", m === sel);
      cell.setAttribute("aria-pressed", String(m === sel));
    });
    table?.querySelectorAll("[data-col]").forEach((c) => c.classList.toggle("xl-col-sel", Number((c as HTMLElement).dataset.col) === sel));
  };
  const onClick = (ev: Event): void => {
    const cell = (ev.target as HTMLElement).closest("[data-method]");
    if (cell) bus.set("method", Number(cell.getAttribute("data-method")), "grid");
  };
  const onToggle = (): void => {
    shared = !shared;
    paintScale();
    drawMaps();
  };
  const onMetric = (): void => {
    drawStrip();
    describeToken();
  };
  grid.addEventListener("click", onClick);
  toggle.addEventListener("click", onToggle);
  styleSel.addEventListener("change", drawMaps);
  metricSel.addEventListener("change", onMetric);
  d.add(() => {
    grid.removeEventListener("click", onClick);
    toggle.removeEventListener("click", onToggle);
    styleSel.removeEventListener("change", drawMaps);
    metricSel.removeEventListener("change", onMetric);
  });
  d.add(bus.on("method", () => {
    drawSelection();
    drawStrip();
    describeToken();
  }));
  d.add(bus.on("token", () => {
    if (perToken) drawMaps();
    describeToken();
  }));
  d.add(() => stripCleanup?.());
  if (!image && data.image) {
    decodeImage(data.image).then((img) => {
      image = img ? upsampleImage(img, k) : null;
      drawMaps();
    }).catch(() => undefined);
  }
  paintScale();
  drawMaps();
  drawSelection();
  drawStrip();
  describeToken();
  return () => {
    d.run();
    root.remove();
  };
}
