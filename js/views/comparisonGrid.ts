// Method comparison: one map per method on ONE shared colour scale, with a metric table (rows:
// metrics, columns: methods; the best of each row marked). Maps follow the selected token when they
// are per-token; clicking a method puts it on the bus as "method".

import { cachedArray, type NDArray, upsample2d } from "../lib/arrays";
import { type Bus, disposer } from "../lib/bus";
import { normaliser } from "../lib/colors";
import { h } from "../lib/dom";
import { decodeImage, imageShape, type RGBAImage, rawImage, upsampleImage, upscaleFactor } from "../lib/image";
import { legend } from "../lib/legend";
import { paintHeat } from "../lib/paint";
import { type MapSource, mapSource, regionsOf } from "../lib/regions";
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
  scores?: unknown;
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
  const norm = normaliser(all, data.signed);
  const label = data.map_label ?? "attribution";
  const perToken = sources.some((s) => s?.perToken);

  const cells = methods.map((name, m) => {
    const canvas = h("canvas", { width, height, class: `xl-canvas xl-thumb${k > 1 ? " xl-pixelated" : ""}`, "aria-label": `${name} map` });
    const cell = h("button", { type: "button", class: "xl-cell", "data-method": m, title: name }, [
      h("span", { class: "xl-cell-title" }, [name]),
      canvas,
    ]);
    return { cell, canvas };
  });
  const grid = h("div", { class: "xl-grid" }, cells.map((c) => c.cell));
  const stripBox = h("div");
  const names = Array.isArray(data.metric_names) ? data.metric_names.map(String) : [];
  const mv = cachedArray(data.metric_values);
  const rows = names.map((name, k) => ({
    name,
    values: mv ? mv.data.subarray(k * methods.length, (k + 1) * methods.length) : [],
    better: data.metric_better?.[k] ?? null,
  }));
  const table = rows.length ? gridTable(methods, rows) : null;
  const root = h("div", { class: "xl-panel xl-comparison" }, [
    perToken && data.tokens ? stripBox : null,
    grid,
    legend(norm, label),
    table,
  ]);
  el.append(root);
  if (perToken && data.tokens) d.add(renderTokenStrip(stripBox, { tokens: data.tokens, prompt_tokens: data.prompt_tokens, scores: data.scores }, bus));

  const raw = rawImage(data.image);
  let image: RGBAImage | null = raw ? upsampleImage(raw, k) : null;
  const draw = (): void => {
    const tok = bus.get("token");
    const sel = bus.get("method");
    cells.forEach(({ cell, canvas }, m) => {
      paintHeat(canvas, image, sources[m]?.pixels(tok) ?? null, norm, 0.65, regions);
      cell.classList.toggle("xl-sel", m === sel);
      cell.setAttribute("aria-pressed", String(m === sel));
    });
    table?.querySelectorAll("[data-col]").forEach((c) => c.classList.toggle("xl-col-sel", Number((c as HTMLElement).dataset.col) === sel));
  };
  const onClick = (ev: Event): void => {
    const cell = (ev.target as HTMLElement).closest("[data-method]");
    if (cell) bus.set("method", Number(cell.getAttribute("data-method")), "grid");
  };
  grid.addEventListener("click", onClick);
  d.add(() => grid.removeEventListener("click", onClick));
  for (const k of ["token", "method"]) d.add(bus.on(k, draw));
  if (!image && data.image) {
    decodeImage(data.image).then((img) => {
      image = img ? upsampleImage(img, k) : null;
      draw();
    }).catch(() => undefined);
  }
  draw();
  return () => {
    d.run();
    root.remove();
  };
}
