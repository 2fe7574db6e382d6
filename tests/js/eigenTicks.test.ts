import { describe, expect, it } from "vitest";
import { createBus } from "../../js/lib/bus";
import { renderEigenScatter } from "../../js/views/eigenScatter";
import { spec, spectrumData } from "./fixtures";

/** One layer, one head: the eigenvalues (re[i], im[i]). */
function eig(re: number[], im: number[]) {
  return { eig_real: spec("float32", [1, 1, re.length], re), eig_imag: spec("float32", [1, 1, im.length], im) };
}

function tickValues(el: HTMLElement, cls: string): number[] {
  return Array.from(el.querySelectorAll(`text.${cls}`)).map((t) => Number(t.textContent));
}

describe("eigenvalue scatter axes", () => {
  const cases: [string, ReturnType<typeof eig>][] = [
    ["the spectrum fixture", spectrumData()],
    ["a tight cluster", eig([0.981, 0.99, 1.004], [-0.002, 0.001, 0.003])],
    ["one eigenvalue", eig([2.5], [0])],
    ["a wide real spread", eig([-40, 3, 120], [-1, 0, 1])],
  ];
  for (const [name, data] of cases) {
    it(`puts at least three round, evenly spaced ticks on each axis (${name})`, () => {
      const el = document.createElement("div");
      const cleanup = renderEigenScatter(el, { ...data, controls: false }, createBus());
      for (const cls of ["xl-xtick", "xl-ytick"]) {
        const ticks = tickValues(el, cls);
        expect(ticks.length, cls).toBeGreaterThanOrEqual(3);
        expect(ticks.every(Number.isFinite), cls).toBe(true);
        const gaps = ticks.slice(1).map((v, i) => Math.abs(v - ticks[i]));
        for (const g of gaps) expect(g).toBeCloseTo(gaps[0], 9);
        // Round: each gap is 1, 2, 2.5 or 5 times a power of ten.
        const m = gaps[0] / 10 ** Math.floor(Math.log10(gaps[0]) + 1e-9);
        expect([1, 2, 2.5, 5].some((s) => Math.abs(m - s) < 1e-6), `${cls} gap ${gaps[0]}`).toBe(true);
      }
      cleanup();
    });
  }
});
