import "./canvasStub";
import { describe, expect, it } from "vitest";
import { createBus } from "../../js/lib/bus";
import { renderPayload } from "../../js/render";
import { frameCaption, temporalRows, topFrame } from "../../js/views/frames";
import { canvases, explanationData, spec } from "./fixtures";

function framesData(mass = [0.1, 0.7, 0.2], effect = [0.0, 0.9, -0.05]) {
  const base = explanationData();
  const frame = { image: base.image, labels: base.labels };
  return {
    ...base,
    frames: mass.map(() => frame),
    n_frames: mass.length,
    n_regions: 4,
    temporal: { mass: spec("float32", [mass.length], mass), effect: spec("float32", [effect.length], effect), value: "probability" },
  };
}

describe("frames view helpers", () => {
  it("reads one temporal row per frame and finds the top frame", () => {
    const rows = temporalRows(framesData());
    expect(rows.map((r) => r.frame)).toEqual([0, 1, 2]);
    expect(rows[1].mass).toBeCloseTo(0.7, 5);
    expect(rows[2].effect).toBeCloseTo(-0.05, 5);
    expect(topFrame(rows)).toBe(1);
    expect(topFrame(rows, "effect")).toBe(1);
    expect(topFrame(temporalRows({ frames: [] }))).toBe(-1);
  });

  it("captions a frame with its mass and removal effect", () => {
    const rows = temporalRows(framesData());
    const text = frameCaption(rows, 1);
    expect(text).toContain("frame 2 of 3");
    expect(text).toContain("70");
    expect(text).toContain("−0.90");
    expect(frameCaption(rows, 7)).toBe("");
    expect(frameCaption(temporalRows(framesData([0.5, 0.5], [1e-5, 0.5])), 0)).toContain("by 0.00");
  });
});

describe("frames view", () => {
  it("starts on the top frame, scrubs with the buttons and the bus, and keeps tokens as text", () => {
    const el = document.createElement("div");
    const bus = createBus();
    renderPayload(el, { version: 1, view: "frames", data: framesData() }, bus);
    expect(el.querySelector(".xl-root")?.getAttribute("data-xl-ready")).toBe("1");
    const caption = el.querySelector(".xl-frame-caption");
    expect(bus.get("frame")).toBe(1);
    expect(caption?.textContent).toContain("frame 2 of 3");
    const [prev, next] = Array.from(el.querySelectorAll("button[aria-label$='frame']")) as HTMLButtonElement[];
    next.click();
    expect(bus.get("frame")).toBe(2);
    expect(next.disabled).toBe(true);
    prev.click();
    prev.click();
    expect(bus.get("frame")).toBe(0);
    expect(prev.disabled).toBe(true);
    bus.set("frame", 9);
    expect(caption?.textContent).toContain("frame 3 of 3");
    const slider = el.querySelector("input[aria-label='frame']") as HTMLInputElement;
    expect(slider.value).toBe("2");
    expect(canvases(el).length).toBeGreaterThan(0);
    expect(el.querySelector("img")).toBeNull(); // the XSS token strings stay text
    expect(el.textContent).toContain("<img src=x onerror=alert(1)>");
  });

  it("picks a frame from the temporal chart and marks a known decisive frame", () => {
    const el = document.createElement("div");
    const bus = createBus();
    renderPayload(el, { version: 1, view: "frames", data: { ...framesData(), decisive: 2 } }, bus);
    const bar = el.querySelector("g[data-frame='0']") as SVGGElement;
    bar.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(bus.get("frame")).toBe(0);
    expect(el.textContent).toContain("3 ★");
  });

  it("shows an error, not a throw, without frames", () => {
    const el = document.createElement("div");
    renderPayload(el, { version: 1, view: "frames", data: { tokens: [] } });
    expect(el.textContent).toContain("no frames");
  });
});
