// Spectrum report: layer/head selection shared by an eigenvalue scatter, the selected head's logits,
// a per-head statistic grid (click a cell to select that head), the head-ablation grid and the
// Toeplitz profiles of every head. All linked through the bus keys "layer", "head" and "stat".

import { type Bus, disposer } from "../lib/bus";
import { h } from "../lib/dom";
import { busSelect } from "../lib/picker";
import { renderEigenScatter } from "./eigenScatter";
import { type Link, type MatrixData, renderMatrixHeatmap } from "./matrixHeatmap";

export interface SpectrumData {
  scheme?: string;
  n_layers?: number;
  n_heads?: number;
  eig_real?: unknown;
  eig_imag?: unknown;
  logits?: unknown; // [L, H, T, T] or [T, T]
  logits_note?: string;
  stats?: unknown; // [K, L, H]
  stat_names?: string[];
  deposit_drop?: unknown; // [L, H]
  toeplitz?: unknown; // [L*H, 2T-1]
  toeplitz_offsets?: number[];
  summary?: Record<string, unknown>;
  layer?: number;
  head?: number;
}

export function renderSpectrum(el: HTMLElement, data: SpectrumData, bus: Bus): () => void {
  const d = disposer();
  const L = Number(data.n_layers ?? 0);
  const H = Number(data.n_heads ?? 0);
  const headNames = Array.from({ length: L * H }, (_, i) => `L${Math.floor(i / H)}H${i % H}`);
  if (bus.get("layer") < 0) bus.set("layer", Number(data.layer ?? 0), "init");
  if (bus.get("head") < 0) bus.set("head", Number(data.head ?? 0), "init");
  if (bus.get("stat") < 0) bus.set("stat", 0, "init");
  const grid: Link = { keys: ["layer", "head"], shape: [L, H] };
  const layerPick = busSelect(bus, "layer", L, "layer");
  const headPick = busSelect(bus, "head", H, "head");
  d.add(layerPick.off);
  d.add(headPick.off);
  const stats = Array.isArray(data.stat_names) ? data.stat_names.map(String) : [];
  const controls = h("div", { class: "xl-controls" }, [layerPick.el, headPick.el]);
  if (stats.length) {
    const statPick = busSelect(bus, "stat", stats.length, "statistic", stats);
    d.add(statPick.off);
    controls.append(statPick.el);
  }
  const boxes = {
    eig: h("div", { class: "xl-section" }),
    logits: h("div", { class: "xl-section" }),
    stat: h("div", { class: "xl-section" }),
    drop: h("div", { class: "xl-section" }),
    toeplitz: h("div", { class: "xl-section" }),
  };
  const root = h("div", { class: "xl-panel xl-spectrum" }, [
    data.scheme ? h("div", { class: "xl-subtitle" }, [`scheme: ${String(data.scheme)} · ${L} layers × ${H} heads`]) : null,
    controls,
    h("div", { class: "xl-row" }, [boxes.eig, boxes.logits]),
    h("div", { class: "xl-row" }, [boxes.stat, data.deposit_drop ? boxes.drop : null, boxes.toeplitz]),
  ]);
  el.append(root);
  d.add(renderEigenScatter(boxes.eig, { eig_real: data.eig_real, eig_imag: data.eig_imag, controls: false }, bus));
  const logitsShape = (data.logits as { shape?: number[] } | undefined)?.shape ?? [];
  const logits: MatrixData = {
    matrix: data.logits,
    heading: "mean attention logits (row-centred)",
    follow: logitsShape.length === 4 ? ["layer", "head"] : [],
    x_label: "key",
    y_label: "query",
    value_label: "logit",
    signed: true,
    note: data.logits_note,
  };
  d.add(renderMatrixHeatmap(boxes.logits, logits, bus));
  if (stats.length) {
    d.add(renderMatrixHeatmap(boxes.stat, {
      matrix: data.stats, heading: "per-head statistic (click a head)", follow: ["stat"], per_slice: true,
      value_labels: stats, row_link: { keys: ["layer"], shape: [L] }, col_link: { keys: ["head"], shape: [H] },
      x_label: "head", y_label: "layer", size: 180,
    }, bus));
  }
  if (data.deposit_drop) {
    d.add(renderMatrixHeatmap(boxes.drop, {
      matrix: data.deposit_drop, heading: "head ablation: accuracy drop", value_label: "drop",
      row_link: { keys: ["layer"], shape: [L] }, col_link: { keys: ["head"], shape: [H] },
      x_label: "head", y_label: "layer", size: 180,
    }, bus));
  }
  d.add(renderMatrixHeatmap(boxes.toeplitz, {
    matrix: data.toeplitz, heading: "Toeplitz profile (mean logit per offset)", row_link: grid,
    row_labels: headNames, col_labels: (data.toeplitz_offsets ?? []).map(String), x_label: "offset j − i",
    y_label: "head", value_label: "mean logit", signed: true, size: 300, aspect: "free",
  }, bus));
  return () => {
    d.run();
    root.remove();
  };
}
