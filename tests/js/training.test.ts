import { describe, expect, it } from "vitest";
import "./canvasStub";
import { createBus } from "../../js/lib/bus";
import { badgeWidth, layoutEvents } from "../../js/lib/eventLabels";
import { defaultPanels, fnv1a, groupOf, seriesColour, SERIES_SPEC } from "../../js/lib/series";
import { formatTicks, linearTicks, logAxisTicks, niceDomain } from "../../js/lib/ticks";
import { decimate, renderTrainingCurves } from "../../js/views/trainingCurves";
import { spec } from "./fixtures";

// The series the grokking trainer logs (xattr_lab/diagnostics/grokking/measures.py SERIES_LABELS).
const GROK = [
  "effective_rank", "excluded_loss", "fourier_gini", "lr", "med", "n_key_freqs", "participation_ratio",
  "restricted_loss", "test_acc", "test_loss", "train_acc", "train_loss", "unif_hypersphere",
  "wd_uniformity_dist_cv", "wd_uniformity_norm_cv", "weight_norm",
];

function run() {
  return {
    steps: spec("float32", [5], [1, 10, 100, 1000, 10000]),
    series: {
      train_loss: spec("float32", [5], [3, 1, 0.1, 0.01, 0.001]),
      test_acc: spec("float32", [5], [0.1, 0.1, 0.2, 0.9, 1]),
    },
    names: ["train_loss", "test_acc"],
    labels: { train_loss: "train loss", test_acc: "<script>test</script>" },
    events: { grokked: 1000, test_acc_50: 1000, train_acc_99: 10, start: 1, never: null },
  };
}

const chart = (el: HTMLElement, panel: string) => el.querySelector(`svg[data-panel="${panel}"]`)!;

describe("training curves", () => {
  it("puts each quantity in its own panel, with a legend per panel and log y for losses", () => {
    const el = document.createElement("div");
    const bus = createBus();
    const cleanup = renderTrainingCurves(el, run(), bus);
    expect([...el.querySelectorAll(".xl-training svg")].map((s) => s.getAttribute("data-panel"))).toEqual(["losses", "accuracy"]);
    expect(chart(el, "losses").querySelectorAll("path.xl-line").length).toBe(1);
    expect((chart(el, "losses") as SVGElement).dataset.logy).toBe("1");
    expect((chart(el, "accuracy") as SVGElement).dataset.logy).toBe("0");
    expect(el.querySelector('.xl-key[data-panel="accuracy"] [data-series=test_acc]')).not.toBeNull();
    expect(el.querySelector("script")).toBeNull();
    expect(el.textContent).toContain("<script>test</script>");
    const lin = chart(el, "accuracy").querySelector("path.xl-line")!.getAttribute("d");
    const logy = el.querySelector("input[aria-label='log y: accuracy']") as HTMLInputElement;
    logy.checked = true;
    logy.dispatchEvent(new Event("change"));
    expect(bus.get("logy:accuracy")).toBe(1);
    expect(chart(el, "accuracy").querySelector("path.xl-line")!.getAttribute("d")).not.toBe(lin);
    (el.querySelector("[data-series=test_acc]") as HTMLElement).click();
    expect(bus.get("hide:test_acc")).toBe(1);
    expect(el.querySelectorAll("path.xl-line").length).toBe(1);
    cleanup();
    expect(el.children.length).toBe(0);
  });

  it("keeps hidden series and log scales on the bus across a re-render (a live payload refresh)", () => {
    const bus = createBus();
    const a = document.createElement("div");
    renderTrainingCurves(a, run(), bus)();
    bus.set("hide:train_loss", 1);
    bus.set("logy:losses", 0);
    const b = document.createElement("div");
    renderTrainingCurves(b, run(), bus);
    expect(chart(b, "losses").querySelectorAll("path.xl-line").length).toBe(0);
    expect((chart(b, "losses") as SVGElement).dataset.logy).toBe("0");
  });

  it("numbers the events by step, lists their names under the panels, and merges events at one step", () => {
    const el = document.createElement("div");
    renderTrainingCurves(el, run(), createBus());
    const items = [...el.querySelectorAll(".xl-events li")].map((li) => li.textContent);
    expect(items).toEqual(["1startstep 1", "2train_acc_99step 10", "3grokkedstep 1000", "4test_acc_50step 1000"]);
    const badges = [...chart(el, "accuracy").querySelectorAll(".xl-ev-badge text")].map((t) => t.textContent);
    expect(badges).toEqual(["1,2", "3,4"]); // steps 1 and 10 are one pixel apart on a linear x axis
    // no badge leaves the plot area (left 52 … right 408 of 420)
    for (const r of chart(el, "accuracy").querySelectorAll(".xl-ev-badge rect")) {
      const x = Number(r.getAttribute("x"));
      expect(x).toBeGreaterThanOrEqual(52);
      expect(x + Number(r.getAttribute("width"))).toBeLessThanOrEqual(408);
    }
    // … and the badges sit above the plot area (the axis path starts at its top), never over the lines
    const top = Number(/^M52,([\d.]+)V/.exec(chart(el, "accuracy").querySelector("path.xl-axis")!.getAttribute("d")!)![1]);
    for (const r of chart(el, "accuracy").querySelectorAll(".xl-ev-badge rect")) {
      expect(Number(r.getAttribute("y")) + Number(r.getAttribute("height"))).toBeLessThanOrEqual(top);
    }
  });

  it("appends live points sent as bus events; a new series joins the panel of its quantity", () => {
    const el = document.createElement("div");
    const bus = createBus();
    renderTrainingCurves(el, run(), bus);
    bus.emit("append", { steps: [20000, 30000], values: { train_loss: [0.0005, 0.0004], test_loss: [2, 1], lr: [1e-3, 1e-3] } });
    expect(el.querySelector("svg")!.dataset.points).toBe("7");
    expect(chart(el, "losses").querySelectorAll("path.xl-line").length).toBe(2);
    expect(chart(el, "schedule").querySelectorAll("path.xl-line").length).toBe(1);
    expect(el.querySelector(".xl-status")?.textContent).toContain("last step 30000");
  });

  it("colours a series by its name, the same whatever the order or the other series", () => {
    const a = document.createElement("div");
    const b = document.createElement("div");
    renderTrainingCurves(a, run(), createBus());
    const flipped = { ...run(), names: ["test_acc", "train_loss"] };
    renderTrainingCurves(b, flipped, createBus());
    const colour = (el: HTMLElement, n: string) => el.querySelector(`path.xl-line[data-series=${n}]`)!.getAttribute("stroke");
    for (const n of ["train_loss", "test_acc"]) expect(colour(a, n)).toBe(colour(b, n));
    expect(seriesColour("some_new_metric")).toBe(seriesColour("some_new_metric"));
    expect(SERIES_SPEC.palette).toContain(seriesColour("some_new_metric"));
    expect(fnv1a("a")).toBe(0xe40c292c); // FNV-1a test vector
  });

  it("gives every grokking panel distinct colours and groups the grokking series by quantity", () => {
    const panels = defaultPanels(GROK);
    expect(panels.map((p) => p.title)).toEqual([
      "losses", "accuracy", "Fourier sparsity", "hypersphere uniformity", "embedding geometry", "norms and distances", "schedule",
    ]);
    for (const p of panels) expect(new Set(p.names.map(seriesColour)).size).toBe(p.names.length);
    expect(groupOf("val_accuracy").title).toBe("accuracy");
    expect(groupOf("mystery").title).toBe("other");
  });

  it("decimates long series to min/max per bucket", () => {
    const xs = Array.from({ length: 10000 }, (_, i) => i);
    const ys = xs.map((x) => Math.sin(x));
    const [dx, dy] = decimate(xs, ys, 100);
    expect(dx.length).toBeLessThanOrEqual(200);
    expect(Math.max(...dy)).toBeCloseTo(1, 2);
  });
});

describe("nice ticks", () => {
  it("gives at least three round ticks on any linear span", () => {
    for (const [lo, hi] of [[0, 1], [0.95, 1.02], [0.0113, 0.0415], [-3.743, -3.709], [0, 30000], [2.7, 4.5], [10.52, 14.39]]) {
      const t = linearTicks(lo, hi, 3);
      expect(t.length).toBeGreaterThanOrEqual(3);
      for (const v of t) expect(v).toBeGreaterThanOrEqual(lo - 1e-12);
      for (const v of t) expect(v).toBeLessThanOrEqual(hi + 1e-12);
    }
    expect(linearTicks(0, 1, 4)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(niceDomain(0.011, 0.97, 4)).toEqual([0, 1]);
  });

  it("gives at least three ticks on log axes, narrow or wide", () => {
    expect(logAxisTicks(1e-4, 10)).toEqual([1e-4, 1e-3, 1e-2, 0.1, 1, 10]);
    for (const [lo, hi] of [[0.5, 3], [2.7, 4.5], [10.5, 14.4], [1e-9, 1e9]]) {
      const t = logAxisTicks(lo, hi);
      expect(t.length).toBeGreaterThanOrEqual(3);
      for (const v of t) expect(v >= lo && v <= hi).toBe(true);
    }
  });

  it("labels ticks with just enough decimals", () => {
    expect(formatTicks([0, 0.25, 0.5, 0.75, 1])).toEqual(["0", "0.25", "0.5", "0.75", "1"]);
    expect(formatTicks([0, 10000, 20000, 30000])).toEqual(["0", "10k", "20k", "30k"]);
    expect(formatTicks([1e-4, 1e-3, 0.01], true)).toEqual(["1e-4", "0.001", "0.01"]);
  });
});

describe("event layout", () => {
  it("never overlaps two badges and keeps them inside the plot area", () => {
    const area = { left: 52, right: 408, top: 8, bottom: 168 };
    const xs = [60, 61, 63, 66, 70, 200, 404, 405, 407, 408, NaN, 900];
    const marks = layoutEvents(xs, area);
    expect(marks.flatMap((m) => m.events).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const m of marks) {
      expect(m.box.x).toBeGreaterThanOrEqual(area.left);
      expect(m.box.x + m.box.width).toBeLessThanOrEqual(area.right);
      expect(m.box.y + m.box.height).toBeLessThanOrEqual(area.bottom);
    }
    for (const a of marks) {
      for (const b of marks) {
        if (a === b) continue;
        const apart = a.box.x + a.box.width <= b.box.x || b.box.x + b.box.width <= a.box.x
          || a.box.y + a.box.height <= b.box.y || b.box.y + b.box.height <= a.box.y;
        expect(apart).toBe(true);
      }
    }
    expect(badgeWidth("3,4")).toBeGreaterThan(badgeWidth("3"));
  });
});
