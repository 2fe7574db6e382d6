import { describe, expect, it } from "vitest";
import { pixelsOf } from "./canvasStub";
import { createBus } from "../../js/lib/bus";
import { renderComparisonGrid } from "../../js/views/comparisonGrid";
import { explanationData, spec } from "./fixtures";

describe("comparison grid", () => {
  it("draws one map per method on a shared scale with a metric table, and selects a method", () => {
    const base = explanationData();
    const el = document.createElement("div");
    const bus = createBus();
    renderComparisonGrid(el, {
      methods: ["eagle", "<b>ig</b>", "random"],
      image: base.image,
      labels: base.labels,
      n_regions: 4,
      region_scores: spec("float32", [3, 4], [1, 0, 0, 0, 0, 1, 0, 0, 0.5, 0.5, 0.5, 0.5]),
      metric_names: ["insertion AUC", "deletion AUC"],
      metric_values: spec("float32", [2, 3], [0.8, 0.6, 0.4, 0.1, 0.3, 0.5]),
      metric_better: ["higher", "lower"],
    }, bus);
    const cells = el.querySelectorAll(".xl-cell");
    expect(cells.length).toBe(3);
    expect(cells[1].textContent).toBe("<b>ig</b>");
    expect(el.querySelector("b")).toBeNull();
    expect(el.querySelectorAll(".xl-legend").length).toBe(1);
    const c = el.querySelectorAll("canvas");
    expect(pixelsOf(c[0]).join()).not.toBe(pixelsOf(c[1]).join());
    const best = Array.from(el.querySelectorAll("td.xl-best")).map((td) => td.getAttribute("data-col"));
    expect(best).toEqual(["0", "0"]);
    (cells[2] as HTMLElement).click();
    expect(bus.get("method")).toBe(2);
    expect(cells[2].classList.contains("xl-sel")).toBe(true);
  });

  it("follows the token when maps are per token", () => {
    const base = explanationData();
    const el = document.createElement("div");
    const bus = createBus({ token: 0 });
    renderComparisonGrid(el, {
      methods: ["a", "b"], image: base.image, labels: base.labels, n_regions: 4, tokens: base.tokens,
      region_scores: spec("float32", [2, 3, 4], Array.from({ length: 24 }, (_, i) => (i * 7) % 5)),
    }, bus);
    expect(el.querySelectorAll(".xl-strip [data-index]").length).toBe(3);
    const canvas = el.querySelector(".xl-grid canvas");
    const before = pixelsOf(canvas).join();
    bus.set("token", 2);
    expect(pixelsOf(canvas).join()).not.toBe(before);
  });
});
