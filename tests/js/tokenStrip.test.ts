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
