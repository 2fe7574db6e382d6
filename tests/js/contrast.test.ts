import { describe, expect, it } from "vitest";
import { renderPayload } from "../../js/render";
import { contrastTitle } from "../../js/views/explanation";
import { explanationData } from "./fixtures";

describe("contrastive explanation title", () => {
  it("names both answers, and nothing without a contrast", () => {
    const data = { ...explanationData(), contrast: { text: "red", tokens: ["red"], target_tokens: ["blue"] } };
    expect(contrastTitle(data)).toContain('why "blue" rather than "red"');
    expect(contrastTitle(explanationData())).toBe("");
    expect(contrastTitle({ contrast: null })).toBe("");
  });

  it("shows the title line above the token strip, as text (never markup)", () => {
    const el = document.createElement("div");
    const contrast = { text: "<b>x</b>", tokens: ["<b>x</b>"], target_tokens: ["blue sky"] };
    renderPayload(el, { version: 1, view: "explanation", data: { ...explanationData(), contrast } });
    const line = el.querySelector(".xl-contrast");
    expect(line?.textContent).toContain('why "blue sky" rather than "<b>x</b>"');
    expect(el.querySelector(".xl-contrast b")).toBeNull();
    const plain = document.createElement("div");
    renderPayload(plain, { version: 1, view: "explanation", data: explanationData() });
    expect(plain.querySelector(".xl-contrast")).toBeNull();
  });
});
