import { describe, expect, it } from "vitest";
import { createBus } from "../../js/lib/bus";
import { renderPayload } from "../../js/render";
import { renderTokenStrip } from "../../js/views/tokenStrip";

function b64(values: number[]): string {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  return btoa(String.fromCharCode(...bytes));
}

describe("token strip", () => {
  it("renders tokens as text, coloured by score", () => {
    const el = document.createElement("div");
    const bus = createBus();
    renderTokenStrip(el, {
      tokens: ["a", "<img src=x onerror=alert(1)>", "circle"],
      prompt_tokens: ["what", "</script><script>alert(2)</script>"],
      scores: { dtype: "float32", shape: [3], data: b64([0.1, 0.5, 0.9]) },
    }, bus);
    const toks = el.querySelectorAll("[data-index]");
    expect(toks.length).toBe(3);
    expect(toks[1].textContent).toBe("<img src=x onerror=alert(1)>");
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("script")).toBeNull();
    const bg0 = (toks[0] as HTMLElement).style.background;
    const bg2 = (toks[2] as HTMLElement).style.background;
    expect(bg0).not.toBe("");
    expect(bg0).not.toBe(bg2);
  });

  it("has a legend for every colouring: its label, range, and what an uncoloured token means", () => {
    const el = document.createElement("div");
    renderTokenStrip(el, {
      tokens: ["the", "red", "ball"],
      scores: { dtype: "float32", shape: [3], data: b64([-0.5, 0.25, NaN]) },
      score_label: "leave-one-out Δ log p",
      unscored_label: "not explained",
    }, createBus());
    const key = el.querySelector(".xl-legend") as HTMLElement;
    expect(key.querySelector(".xl-legend-label")?.textContent).toBe("leave-one-out Δ log p");
    expect(key.getAttribute("aria-label")).toBe("colour scale leave-one-out Δ log p: -0.5 to 0.5"); // diverging: symmetric
    expect(key.querySelector(".xl-legend-ticks")?.textContent).toBe("-0.500.5");
    expect(key.textContent).toContain("outlined: not explained");
    // sequential scores (ARC relevance, reliance): min..max, no note when every token is scored
    const el2 = document.createElement("div");
    renderTokenStrip(el2, { tokens: ["a", "b"], scores: { dtype: "float32", shape: [2], data: b64([0.25, 0.75]) }, score_label: "ARC relevance" }, createBus());
    expect(el2.querySelector(".xl-legend")?.getAttribute("aria-label")).toBe("colour scale ARC relevance: 0.25 to 0.75");
    expect(el2.querySelector(".xl-legend-note")).toBeNull();
    // no scores: nothing coloured, no legend
    const el3 = document.createElement("div");
    renderTokenStrip(el3, { tokens: ["a"] }, createBus());
    expect(el3.querySelector(".xl-legend")).toBeNull();
  });

  it("selects on click and with the keyboard, and follows the bus", () => {
    const el = document.createElement("div");
    const bus = createBus();
    const seen: number[] = [];
    bus.on("token", (v) => seen.push(v));
    const cleanup = renderTokenStrip(el, { tokens: ["x", "y", "z"] }, bus);
    (el.querySelectorAll("[data-index]")[2] as HTMLElement).click();
    expect(bus.get("token")).toBe(2);
    expect(el.querySelector(".xl-sel")?.textContent).toBe("z");
    const strip = el.querySelector(".xl-strip") as HTMLElement;
    strip.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowLeft", bubbles: true }));
    expect(bus.get("token")).toBe(1);
    bus.set("token", 0, "other-view");
    expect(el.querySelector(".xl-sel")?.textContent).toBe("x");
    expect(seen).toEqual([2, 1, 0]);
    cleanup();
    expect(el.children.length).toBe(0);
  });

  it("shows a clear error for a bad payload instead of throwing", () => {
    const el = document.createElement("div");
    renderPayload(el, { version: 1, view: "nope", data: {} });
    expect(el.textContent).toContain("unknown view");
    const el2 = document.createElement("div");
    renderPayload(el2, { version: 7, view: "token_strip", data: {} });
    expect(el2.textContent).toContain("unsupported payload version");
  });

  it("renders through the payload entry point with an initial selection", () => {
    const el = document.createElement("div");
    const { bus, dispose } = renderPayload(el, {
      version: 1, view: "token_strip", data: { tokens: ["p", "q"] }, selected: { token: 1 },
    });
    expect(bus.get("token")).toBe(1);
    expect(el.querySelector(".xl-sel")?.textContent).toBe("q");
    dispose();
    expect(el.children.length).toBe(0);
  });
});
