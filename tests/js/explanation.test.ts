import { describe, expect, it } from "vitest";
import { pixelsOf } from "./canvasStub";
import { createBus } from "../../js/lib/bus";
import { renderPayload } from "../../js/render";
import { renderCurves } from "../../js/views/curves";
import { renderImageOverlay } from "../../js/views/imageOverlay";
import { relianceNote } from "../../js/views/explanation";
import { setSyncFrames } from "../../js/lib/frame";
import { explanationData, spec } from "./fixtures";

describe("image overlay", () => {
  it("renders a canvas, a legend and a step slider that follows the bus", () => {
    const el = document.createElement("div");
    const bus = createBus({ token: 0 });
    const cleanup = renderImageOverlay(el, explanationData(), bus);
    expect(el.querySelectorAll("canvas").length).toBeGreaterThanOrEqual(1);
    expect(el.querySelector(".xl-legend")).not.toBeNull();
    const slider = el.querySelector("input.xl-step") as HTMLInputElement;
    expect(slider.max).toBe("4");
    bus.set("step", 2);
    expect(slider.value).toBe("2");
    expect(el.querySelector(".xl-status")?.textContent).toContain("revealed 2/4 regions");
    expect(el.querySelector(".xl-status")?.textContent).toContain('p("a") = 0.7');
    slider.value = "1";
    slider.dispatchEvent(new Event("input"));
    expect(bus.get("step")).toBe(1);
    bus.set("mode", 1);
    expect(el.querySelector(".xl-status")?.textContent).toContain("removed 1/4 regions");
    cleanup();
    expect(el.children.length).toBe(0);
  });

  it("offers the per-token insertion gain as a second colouring", () => {
    const el = document.createElement("div");
    renderImageOverlay(el, explanationData(), createBus());
    const options = Array.from(el.querySelectorAll("select[aria-label='colour by'] option")).map((o) => o.textContent);
    expect(options).toEqual(["score", "Δp when revealed (token)"]);
  });

  it("says so when there is no image", () => {
    const el = document.createElement("div");
    renderImageOverlay(el, {}, createBus());
    expect(el.textContent).toContain("no image");
  });
});

describe("curves", () => {
  it("draws insertion and deletion of the selected token with AUCs and a step marker", () => {
    const el = document.createElement("div");
    const bus = createBus();
    const cleanup = renderCurves(el, explanationData(), bus);
    expect(el.textContent).toContain("mean of 3 explained tokens");
    bus.set("token", 1);
    expect(el.querySelector(".xl-key-title")?.textContent).toBe('"<img src=x onerror=alert(1)>"');
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelectorAll("path.xl-line").length).toBe(2);
    // token 1 insertion [0.2,0.2,0.6,0.7,0.8] over area 0..1 in quarters: AUC = 0.5
    expect(el.textContent).toContain("insertion AUC 0.5");
    bus.set("step", 2);
    expect(el.querySelector(".xl-status")?.textContent).toContain("step 2/4");
    expect(el.querySelectorAll(".xl-marker circle").length).toBe(2);
    cleanup();
    expect(el.children.length).toBe(0);
  });
});

describe("explanation with one shared map and a subset of explained tokens", () => {
  it("maps tokens to curve rows, defaults to the per-token gain and repaints on selection", () => {
    const base = explanationData();
    const data = {
      ...base,
      tokens: ["x", "a", "y", "b"],
      targets: [1, 3], // curve rows 0 and 1 are generated tokens 1 and 3
      region_scores: spec("float32", [4], [0.9, 0.1, 0.5, 0.2]),
      pixel_map: spec("float32", [2, 2], [0.9, 0.1, 0.5, 0.2]),
      insertion: spec("float32", [2, 5], [0.1, 0.5, 0.7, 0.8, 0.9, 0.0, 0.1, 0.1, 0.2, 0.9]),
      deletion: spec("float32", [2, 5], [0.9, 0.4, 0.3, 0.2, 0.1, 0.9, 0.9, 0.8, 0.7, 0.0]),
    };
    const el = document.createElement("div");
    const bus = createBus();
    renderImageOverlay(el, data, bus);
    const sel = el.querySelector("select[aria-label='colour by']") as HTMLSelectElement;
    expect(Array.from(sel.options).map((o) => o.textContent)).toEqual(["score", "pixel map", "Δp when revealed (token)"]);
    expect(sel.value).toBe("2");
    const canvas = el.querySelector("canvas");
    const mean = pixelsOf(canvas).join();
    bus.set("token", 3);
    const b = pixelsOf(canvas).join();
    expect(b).not.toBe(mean);
    expect(el.querySelector(".xl-status")?.textContent).toContain('p("b") = 0.9');
    bus.set("token", 1);
    expect(pixelsOf(canvas).join()).not.toBe(b);
    const curves = document.createElement("div");
    renderCurves(curves, data, bus);
    expect(curves.querySelector(".xl-key-title")?.textContent).toBe('"a"');
    bus.set("token", 2);
    expect(curves.querySelector(".xl-key-title")?.textContent).toBe('"y" was not explained: mean of 2 explained tokens');
  });
});

describe("explanation (composite)", () => {
  it("links the token strip, the overlay and the curves through one bus", () => {
    const el = document.createElement("div");
    const { bus, dispose } = renderPayload(el, { version: 1, view: "explanation", data: explanationData() });
    expect(bus.get("step")).toBe(4);
    const toks = el.querySelectorAll(".xl-strip [data-index]");
    expect(toks.length).toBe(3);
    (toks[2] as HTMLElement).click();
    expect(bus.get("token")).toBe(2);
    expect(el.querySelector(".xl-key-title")?.textContent).toContain("</script>");
    expect(el.querySelector("script")).toBeNull();
    expect(el.querySelector(".xl-overlay .xl-status")?.textContent).toContain("p(");
    // the heatmap is per token: selecting another token repaints the overlay differently
    const canvas = el.querySelector(".xl-overlay canvas");
    const before = pixelsOf(canvas).join();
    (toks[0] as HTMLElement).click();
    expect(pixelsOf(canvas).join()).not.toBe(before);
    expect(el.textContent).toContain("insertion AUC");
    expect(el.querySelector("table")?.textContent).toContain("deletion AUC");
    dispose();
    expect(el.children.length).toBe(0);
  });
});

describe("metric tables", () => {
  it("keep the given order even when the JSON keys were sorted", () => {
    const el = document.createElement("div");
    renderPayload(el, {
      version: 1, view: "explanation",
      data: { ...explanationData(), metrics: { a: 1, z: 2 }, metrics_order: ["z", "a"] },
    });
    expect(Array.from(el.querySelectorAll("table th")).map((t) => t.textContent).slice(0, 2)).toEqual(["z", "a"]);
  });
});

describe("readable overlays for colour questions", () => {
  const IMG = [200, 180, 160];
  const plain = (px: number[]) => {
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] === IMG[0] && px[i + 1] === IMG[1] && px[i + 2] === IMG[2]) n++;
    return n / (px.length / 4);
  };
  const render = (overlay?: string) => {
    setSyncFrames(true); // repaint on each control change, not on the next animation frame
    const el = document.createElement("div");
    renderImageOverlay(el, { ...explanationData(), overlay }, createBus({ token: 0 }));
    const outlines = el.querySelector("input[aria-label='region outlines']") as HTMLInputElement;
    outlines.checked = false; // outlines off: only the overlay style changes pixels
    outlines.dispatchEvent(new Event("change"));
    return el;
  };

  it("blends by default: every pixel is tinted", () => {
    const el = render();
    expect((el.querySelector("select[aria-label=overlay]") as HTMLSelectElement).value).toBe("blend");
    expect(plain(pixelsOf(el.querySelector("canvas.xl-canvas")))).toBe(0);
  });

  it("draws contours over the unmodified image, with a visible toggle back to blending", () => {
    const el = render("contours");
    const sel = el.querySelector("select[aria-label=overlay]") as HTMLSelectElement;
    expect(Array.from(sel.options).map((o) => o.textContent)).toEqual(["blend", "contours", "map beside image"]);
    expect(sel.value).toBe("contours");
    const share = plain(pixelsOf(el.querySelector("canvas.xl-canvas")));
    expect(share).toBeGreaterThan(0.4); // the image itself, untouched ...
    expect(share).toBeLessThan(1); // ... crossed by iso-lines
    expect(el.querySelector(".xl-legend")?.textContent).toContain("lines at 20, 40, 60, 80% of the range");
    expect((el.querySelector("input[aria-label='heatmap opacity']") as HTMLInputElement).disabled).toBe(true);
    sel.value = "blend";
    sel.dispatchEvent(new Event("change"));
    expect(plain(pixelsOf(el.querySelector("canvas.xl-canvas")))).toBe(0);
  });

  it("draws the map beside the unmodified image", () => {
    const el = render("beside");
    const beside = el.querySelector("canvas.xl-beside") as HTMLCanvasElement;
    expect(beside.style.display).toBe("");
    expect(plain(pixelsOf(el.querySelector("canvas.xl-canvas")))).toBe(1);
    expect(plain(pixelsOf(beside))).toBe(0);
    expect(new Set(pixelsOf(beside).filter((_, i) => i % 4 === 0)).size).toBeGreaterThan(1); // the map's colours
  });
});

describe("near-zero vision reliance", () => {
  const data = () => ({
    ...explanationData(),
    raw_reliance: spec("float32", [3], [0.4, 0.01, 0.2]),
    reliance_floor: 0.05,
  });

  it("names the token, its reliance and the threshold", () => {
    expect(relianceNote(data(), 0)).toBe("");
    const note = relianceNote(data(), 1);
    expect(note).toContain('"<img src=x onerror=alert(1)>" barely depends on the image');
    expect(note).toContain("raw vision reliance 0.01, below the threshold 0.05");
    expect(note).toContain("mostly noise");
    expect(relianceNote(data(), -1)).toContain("1 of 3 explained tokens barely depend on the image");
    expect(relianceNote({ ...data(), raw_reliance: undefined }, 1)).toBe("");
  });

  it("shows and hides the note as tokens are selected, as text", () => {
    const el = document.createElement("div");
    const { bus } = renderPayload(el, { version: 1, view: "explanation", data: data() });
    const note = el.querySelector(".xl-warn") as HTMLElement;
    bus.set("token", 1);
    expect(note.hidden).toBe(false);
    expect(note.textContent).toContain("barely depends on the image");
    expect(el.querySelector("img")).toBeNull();
    bus.set("token", 2);
    expect(note.hidden).toBe(true);
  });
});
