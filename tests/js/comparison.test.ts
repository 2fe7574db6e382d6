import { describe, expect, it } from "vitest";
import { pixelsOf } from "./canvasStub";
import { createBus } from "../../js/lib/bus";
import { renderComparisonGrid } from "../../js/views/comparisonGrid";
import { explanationData, spec } from "./fixtures";

const base = explanationData();
// Method 1 has raw scores 40x larger than method 0: one shared scale would wash method 0 out.
const data = () => ({
  methods: ["eagle", "<b>ig</b>", "random"],
  image: base.image,
  labels: base.labels,
  n_regions: 4,
  region_scores: spec("float32", [3, 4], [1, 0, 0, 0, 0, 40, 0, 0, 0.5, 0.5, 0.5, 0.75]),
  metric_names: ["insertion AUC", "deletion AUC"],
  metric_values: spec("float32", [2, 3], [0.8, 0.6, 0.4, 0.1, 0.3, 0.5]),
  metric_better: ["higher", "lower"] as ("higher" | "lower")[],
  tokens: base.tokens,
  prompt_tokens: base.prompt_tokens,
  targets: [0, 2],
  token_metric_names: ["insertion AUC", "vision reliance"],
  // [K=2, M=3, T=2]
  token_metric_values: spec("float32", [2, 3, 2], [0.9, 0.1, 0.5, 0.7, 0.2, 0.3, 1, 0, 0.4, 0.6, 0.5, 0.5]),
});

const ranges = (el: HTMLElement) =>
  Array.from(el.querySelectorAll(".xl-cell .xl-legend")).map((l) => [l.getAttribute("data-lo"), l.getAttribute("data-hi")].join(".."));

describe("comparison grid", () => {
  it("puts each method on its own scale by default, with its own legend, and a toggle to one shared scale", () => {
    const el = document.createElement("div");
    renderComparisonGrid(el, data(), createBus());
    const cells = el.querySelectorAll(".xl-cell");
    expect(cells.length).toBe(3);
    expect(cells[1].querySelector(".xl-cell-title")?.textContent).toBe("<b>ig</b>");
    expect(el.querySelector("b")).toBeNull();
    expect(ranges(el)).toEqual(["0..1", "0..40", "0.5..0.75"]);
    const c = el.querySelectorAll(".xl-grid canvas.xl-thumb");
    const own = pixelsOf(c[0]).join();
    const toggle = el.querySelector(".xl-scale-toggle") as HTMLButtonElement;
    expect(toggle.getAttribute("aria-pressed")).toBe("false");
    toggle.click();
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
    expect(ranges(el)).toEqual(["0..40", "0..40", "0..40"]);
    expect(el.querySelectorAll(".xl-controls .xl-legend").length).toBe(1); // the shared scale's legend
    expect(pixelsOf(c[0]).join()).not.toBe(own); // method 0 washes out on the shared scale
    toggle.click();
    expect(pixelsOf(c[0]).join()).toBe(own);
  });

  it("draws contours over the unmodified image on request", () => {
    const el = document.createElement("div");
    renderComparisonGrid(el, { ...data(), overlay: "contours" }, createBus());
    const sel = el.querySelector("select[aria-label=overlay]") as HTMLSelectElement;
    expect(sel.value).toBe("contours");
    const canvas = el.querySelectorAll(".xl-grid canvas.xl-thumb")[1];
    const px = pixelsOf(canvas);
    let plain = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] === 200 && px[i + 1] === 180 && px[i + 2] === 160) plain++;
    expect(plain / (px.length / 4)).toBeGreaterThan(0.5); // the image itself, crossed by iso-lines
    expect(plain).toBeLessThan(px.length / 4);
    sel.value = "blend";
    sel.dispatchEvent(new Event("change"));
    expect(pixelsOf(canvas).join()).not.toBe(px.join());
  });

  it("starts on the shared scale when asked", () => {
    const el = document.createElement("div");
    renderComparisonGrid(el, { ...data(), scale: "shared" }, createBus());
    expect(ranges(el)).toEqual(["0..40", "0..40", "0..40"]);
  });

  it("links methods, the table and the explained answer's token strip", () => {
    const el = document.createElement("div");
    const bus = createBus();
    renderComparisonGrid(el, data(), bus);
    const toks = () => Array.from(el.querySelectorAll(".xl-strip [data-index]")) as HTMLElement[];
    expect(toks().map((t) => t.textContent)).toEqual(base.tokens);
    expect(el.querySelector("img,script")).toBeNull();
    // explained tokens are coloured by the first method's per-token insertion AUC; token 1 was not explained
    expect(toks()[1].classList.contains("xl-nosc")).toBe(true);
    expect(toks()[0].title).toBe("insertion AUC (eagle): 0.900");
    expect(el.querySelector(".xl-token-strip .xl-legend")?.textContent).toContain("outlined: not explained");
    // clicking a method selects its cell and table column and recolours the strip with its figures
    (el.querySelectorAll(".xl-cell")[2] as HTMLElement).click();
    expect(bus.get("method")).toBe(2);
    expect(el.querySelector(".xl-cell.xl-sel .xl-cell-title")?.textContent).toBe("random");
    expect(el.querySelector("th.xl-col-sel")?.textContent).toBe("random");
    expect(toks()[2].title).toBe("insertion AUC (random): 0.300");
    expect(el.querySelector(".xl-subtitle")?.textContent).toContain("random's insertion AUC");
    // clicking a token lists every method's figure for it
    toks()[2].click();
    expect(bus.get("token")).toBe(2);
    expect(el.querySelector(".xl-token-methods")?.textContent).toContain("eagle 0.1 · <b>ig</b> 0.7 · random 0.3");
    const sel = el.querySelector(".xl-token-methods .xl-best");
    expect(sel?.textContent).toBe("random 0.3");
    // another per-token figure
    const metric = el.querySelector("select[aria-label='colour tokens by']") as HTMLSelectElement;
    metric.value = "1";
    metric.dispatchEvent(new Event("change"));
    expect(toks()[0].title).toBe("vision reliance (random): 0.500");
    toks()[1].click();
    expect(el.querySelector(".xl-token-methods")?.textContent).toContain("was not explained");
  });

  it("follows the explained token when maps are per token", () => {
    const el = document.createElement("div");
    const bus = createBus({ token: 0 });
    renderComparisonGrid(el, {
      methods: ["a", "b"], image: base.image, labels: base.labels, n_regions: 4, tokens: base.tokens, targets: [0, 2],
      region_scores: spec("float32", [2, 2, 4], [1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0]),
    }, bus);
    expect(el.querySelectorAll(".xl-strip [data-index]").length).toBe(3);
    const canvas = el.querySelector(".xl-grid canvas.xl-thumb");
    const before = pixelsOf(canvas).join();
    bus.set("token", 1); // not explained: the maps stay on the first row
    expect(pixelsOf(canvas).join()).toBe(before);
    bus.set("token", 2); // the second explained token: its row
    expect(pixelsOf(canvas).join()).not.toBe(before);
  });
});
