// Colour-scale legend for every heatmap: a gradient bar with its range (and 0 for diverging scales).

import { colour, type Normaliser } from "./colors";
import { h } from "./dom";
import { fmt } from "./format";

/** A legend element for `norm`, labelled with what the colour means. */
export function legend(norm: Normaliser, label: string): HTMLElement {
  const bar = h("canvas", { width: 120, height: 10, "aria-hidden": "true" });
  const ctx = bar.getContext?.("2d");
  if (ctx) {
    for (let x = 0; x < 120; x++) {
      ctx.fillStyle = colour(x / 119, norm.scale);
      ctx.fillRect(x, 0, 1, 10);
    }
  }
  const mid = norm.scale === "coolwarm" ? "0" : "";
  const ticks = h("span", { class: "xl-legend-ticks" }, [
    h("span", {}, [fmt(norm.lo)]),
    h("span", {}, [mid]),
    h("span", {}, [fmt(norm.hi)]),
  ]);
  return h("div", {
    class: "xl-legend",
    role: "img",
    "aria-label": `colour scale ${label}: ${fmt(norm.lo)} to ${fmt(norm.hi)}`,
  }, [h("span", { class: "xl-legend-label" }, [label]), h("span", { class: "xl-legend-bar" }, [bar, ticks])]);
}
