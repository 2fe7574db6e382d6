import { describe, expect, it } from "vitest";
import { pixelsOf } from "./canvasStub";
import { createBus } from "../../js/lib/bus";
import { renderPayload } from "../../js/render";
import { renderEigenScatter } from "../../js/views/eigenScatter";
import { renderMatrixHeatmap } from "../../js/views/matrixHeatmap";
import { spec, spectrumData } from "./fixtures";

describe("eigenvalue scatter", () => {
  it("plots the selected head's eigenvalues and follows layer/head selection", () => {
    const el = document.createElement("div");
    const bus = createBus();
    const cleanup = renderEigenScatter(el, spectrumData(), bus);
    expect(el.querySelectorAll("circle.xl-pt").length).toBe(4);
    const svg = el.querySelector("svg")!;
    expect(svg.dataset.head).toBe("0");
    const first = el.querySelector("circle.xl-pt")!.getAttribute("cx");
    const headSel = el.querySelector("select[data-key=head]") as HTMLSelectElement;
    headSel.value = "2";
    headSel.dispatchEvent(new Event("change"));
    expect(bus.get("head")).toBe(2);
    expect(svg.dataset.head).toBe("2");
    expect(el.querySelector("circle.xl-pt")!.getAttribute("cx")).not.toBe(first);
    bus.set("layer", 1);
    expect((el.querySelector("select[data-key=layer]") as HTMLSelectElement).value).toBe("1");
    expect(el.querySelector(".xl-status")?.textContent).toContain("layer 1, head 2");
    cleanup();
    expect(el.children.length).toBe(0);
  });
});

describe("matrix heatmap", () => {
  it("paints the slice chosen on the bus, with a legend, and clicking a cell selects", () => {
    const el = document.createElement("div");
    const bus = createBus();
    const data = spectrumData();
    renderMatrixHeatmap(el, { matrix: data.logits, follow: ["layer", "head"], signed: true, heading: "logits" }, bus);
    const canvas = el.querySelector("canvas")!;
    expect(el.querySelector(".xl-legend")).not.toBeNull();
    const a = pixelsOf(canvas).join();
    bus.set("head", 1);
    expect(canvas.dataset.slice).toBe("1");
    expect(pixelsOf(canvas).join()).not.toBe(a);

    const el2 = document.createElement("div");
    renderMatrixHeatmap(el2, {
      matrix: spec("float32", [2, 3], [1, 2, 3, 4, 5, 6]),
      row_link: { keys: ["layer"], shape: [2] }, col_link: { keys: ["head"], shape: [3] },
    }, bus);
    const c2 = el2.querySelector("canvas")!;
    c2.getBoundingClientRect = () => ({ left: 0, top: 0, width: 30, height: 20, right: 30, bottom: 20, x: 0, y: 0, toJSON: () => 0 });
    c2.dispatchEvent(new MouseEvent("click", { clientX: 25, clientY: 15 }));
    expect([bus.get("layer"), bus.get("head")]).toEqual([1, 2]);
    const hl = el2.querySelector(".xl-hl-row") as HTMLElement;
    expect(hl.hidden).toBe(false);
  });
});

describe("spectrum (composite)", () => {
  it("links the stat grid, ablation grid, Toeplitz rows, logits and scatter through layer/head", () => {
    const el = document.createElement("div");
    const { bus, dispose } = renderPayload(el, { version: 1, view: "spectrum", data: spectrumData() });
    expect(el.querySelectorAll(".xl-legend").length).toBe(4);
    const toeplitz = Array.from(el.querySelectorAll(".xl-matrix")).find((m) => m.textContent?.includes("Toeplitz"))!;
    const tc = toeplitz.querySelector("canvas")!;
    tc.getBoundingClientRect = () => ({ left: 0, top: 0, width: 70, height: 60, right: 70, bottom: 60, x: 0, y: 0, toJSON: () => 0 });
    // 6 rows (2 layers × 3 heads): row 4 is layer 1, head 1
    tc.dispatchEvent(new MouseEvent("click", { clientX: 5, clientY: 45 }));
    expect([bus.get("layer"), bus.get("head")]).toEqual([1, 1]);
    expect(el.querySelector(".xl-eigen svg")?.getAttribute("aria-label")).toBe("eigenvalues of layer 1 head 1");
    const logits = Array.from(el.querySelectorAll(".xl-matrix")).find((m) => m.textContent?.includes("logits"))!;
    expect(logits.querySelector("canvas")!.dataset.slice).toBe(String(1 * 3 + 1));
    bus.set("stat", 1);
    expect(el.textContent).toContain("condition");
    dispose();
  });
});
