import { describe, expect, it } from "vitest";
import { createBus } from "../../js/lib/bus";
import { renderCurves } from "../../js/views/curves";
import { explanationData } from "./fixtures";

describe("insertion/deletion curves", () => {
  it("draws insertion in the palette's blue and deletion in its red, lines and markers alike", () => {
    const el = document.createElement("div");
    const cleanup = renderCurves(el, explanationData(), createBus({ token: 0 }));
    expect(el.querySelector("path.xl-insertion")?.getAttribute("stroke")).toBe("#4e79a7");
    expect(el.querySelector("path.xl-deletion")?.getAttribute("stroke")).toBe("#e15759");
    const markers = Array.from(el.querySelectorAll("circle")).map((c) => c.getAttribute("fill"));
    expect(markers).toEqual(["#4e79a7", "#e15759"]);
    cleanup();
  });
});
