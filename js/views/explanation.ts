// The explanation of one generation: token strip ↔ image + heatmap overlay ↔ insertion/deletion
// curves, linked through the bus (token, step, mode), plus the metrics and cost of the run.

import { type Bus, disposer } from "../lib/bus";
import { h } from "../lib/dom";
import { kvTable } from "../lib/table";
import { renderCurves } from "./curves";
import { renderImageOverlay } from "./imageOverlay";
import { renderTokenStrip } from "./tokenStrip";

export interface ExplanationData {
  method?: string;
  tokens?: string[];
  metrics?: Record<string, unknown>;
  cost?: Record<string, unknown>;
  metrics_order?: string[];
  cost_order?: string[];
  [key: string]: unknown;
}

export function renderExplanation(el: HTMLElement, data: ExplanationData, bus: Bus): () => void {
  const d = disposer();
  const stripBox = h("div", { class: "xl-section" });
  const overlayBox = h("div", { class: "xl-section" });
  const curvesBox = h("div", { class: "xl-section" });
  const side = h("div", { class: "xl-panel xl-side" });
  const metrics = data.metrics && typeof data.metrics === "object" ? data.metrics : null;
  const cost = data.cost && typeof data.cost === "object" ? data.cost : null;
  if (metrics && Object.keys(metrics).length) side.append(kvTable(metrics, "metrics", 6, data.metrics_order));
  if (cost && Object.keys(cost).length) side.append(kvTable(cost, "cost", 4, data.cost_order));
  const root = h("div", { class: "xl-panel xl-explanation" }, [
    stripBox,
    h("div", { class: "xl-row" }, [overlayBox, curvesBox, side.childElementCount ? side : null]),
  ]);
  el.append(root);
  if (bus.get("step") < 0) {
    // Start fully revealed (insertion at its last step): the whole map is visible.
    const ins = data.insertion as { shape?: number[] } | undefined;
    const n = ins?.shape ? ins.shape[ins.shape.length - 1] - 1 : -1;
    if (n >= 0) bus.set("step", n, "init");
  }
  d.add(renderTokenStrip(stripBox, { ...data, tokens: data.tokens ?? [] } as never, bus));
  d.add(renderImageOverlay(overlayBox, data, bus));
  d.add(renderCurves(curvesBox, data, bus));
  return () => {
    d.run();
    root.remove();
  };
}
