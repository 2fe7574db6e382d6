import { describe, expect, it } from "vitest";
import "./canvasStub";
import { createBus } from "../../js/lib/bus";
import { decimate, renderTrainingCurves } from "../../js/views/trainingCurves";
import { spec } from "./fixtures";

function run() {
  return {
    steps: spec("float32", [5], [1, 10, 100, 1000, 10000]),
    series: {
      train_loss: spec("float32", [5], [3, 1, 0.1, 0.01, 0.001]),
      test_acc: spec("float32", [5], [0.1, 0.1, 0.2, 0.9, 1]),
    },
    names: ["train_loss", "test_acc"],
    labels: { train_loss: "train loss", test_acc: "<script>test</script>" },
    events: { grokked: 1000 },
  };
}

describe("training curves", () => {
  it("draws one line per series, toggles series and log axes through the bus", () => {
    const el = document.createElement("div");
    const bus = createBus();
    const cleanup = renderTrainingCurves(el, run(), bus);
    expect(el.querySelectorAll("path.xl-line").length).toBe(2);
    expect(el.querySelector("script")).toBeNull();
    expect(el.textContent).toContain("<script>test</script>");
    const lin = el.querySelector("path.xl-line")!.getAttribute("d");
    const logy = el.querySelector("input[aria-label='log y']") as HTMLInputElement;
    logy.checked = true;
    logy.dispatchEvent(new Event("change"));
    expect(bus.get("logy")).toBe(1);
    expect(el.querySelector("path.xl-line")!.getAttribute("d")).not.toBe(lin);
    (el.querySelector("[data-series=test_acc]") as HTMLElement).click();
    expect(el.querySelectorAll("path.xl-line").length).toBe(1);
    expect(el.querySelectorAll("path.xl-event").length).toBe(1);
    cleanup();
    expect(el.children.length).toBe(0);
  });

  it("appends live points sent as bus events, including new series", () => {
    const el = document.createElement("div");
    const bus = createBus();
    renderTrainingCurves(el, run(), bus);
    bus.emit("append", { steps: [20000, 30000], values: { train_loss: [0.0005, 0.0004], lr: [1e-3, 1e-3] } });
    expect(el.querySelector("svg")!.dataset.points).toBe("7");
    expect(el.querySelectorAll("path.xl-line").length).toBe(3);
    expect(el.querySelector(".xl-status")?.textContent).toContain("last step 30000");
  });

  it("decimates long series to min/max per bucket", () => {
    const xs = Array.from({ length: 10000 }, (_, i) => i);
    const ys = xs.map((x) => Math.sin(x));
    const [dx, dy] = decimate(xs, ys, 100);
    expect(dx.length).toBeLessThanOrEqual(200);
    expect(Math.max(...dy)).toBeCloseTo(1, 2);
  });
});
