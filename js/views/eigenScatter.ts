// Eigenvalues of one head's attention logits in the complex plane (equal aspect), with the other heads
// of the same layer in grey for context. Layer and head come from the bus (selects included).

import { cachedArray, type NDArray } from "../lib/arrays";
import { type Bus, disposer } from "../lib/bus";
import { h } from "../lib/dom";
import { fmt } from "../lib/format";
import { busSelect } from "../lib/picker";
import { type Frame, s, svgPoint } from "../lib/svg";
import { niceAxes, niceScale } from "../lib/ticks";

export interface EigenData {
  eig_real?: unknown;
  eig_imag?: unknown;
  controls?: boolean;
}

const ACCENT = "#e8590c";

export function renderEigenScatter(el: HTMLElement, data: EigenData, bus: Bus): () => void {
  const d = disposer();
  const re: NDArray | null = cachedArray(data.eig_real);
  const im: NDArray | null = cachedArray(data.eig_imag);
  const root = h("div", { class: "xl-panel xl-eigen" });
  el.append(root);
  if (!re || !im || re.shape.length !== 3 || re.data.length !== im.data.length) {
    root.append(h("div", { class: "xl-status" }, ["no eigenvalues in this result"]));
    return () => root.remove();
  }
  const [L, H, T] = re.shape;
  if (data.controls !== false) {
    const layer = busSelect(bus, "layer", L, "layer");
    const head = busSelect(bus, "head", H, "head");
    root.append(h("div", { class: "xl-controls" }, [layer.el, head.el]));
    d.add(layer.off);
    d.add(head.off);
  }
  const f: Frame = { width: 300, height: 300, left: 46, right: 10, top: 10, bottom: 34 };
  const svg = s("svg", { viewBox: `0 0 ${f.width} ${f.height}`, class: "xl-chart xl-square", role: "img" });
  const axisG = s("g");
  const zero = s("g");
  const others = s("path", { class: "xl-others" });
  const pts = s("g");
  svg.append(axisG, zero, others, pts);
  const status = h("div", { class: "xl-status", "aria-live": "polite" });
  root.append(svg, status);

  const clamp = (v: number, n: number): number => (v >= 0 && v < n ? v : 0);
  let current: { x: number; y: number; re: number; im: number }[] = [];
  const draw = (): void => {
    const l = clamp(bus.get("layer"), L);
    const hd = clamp(bus.get("head"), H);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    const base = l * H * T;
    for (let i = base; i < base + H * T; i++) {
      const a = re.data[i], b = im.data[i];
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      x0 = Math.min(x0, a); x1 = Math.max(x1, a); y0 = Math.min(y0, b); y1 = Math.max(y1, b);
    }
    if (!Number.isFinite(x0)) { x0 = -1; x1 = 1; y0 = -1; y1 = 1; }
    // equal aspect: the same units per pixel on both axes
    const pw = f.width - f.left - f.right;
    const ph = f.height - f.top - f.bottom;
    const span = Math.max((x1 - x0) / pw, (y1 - y0) / ph, 1e-9) * 1.1;
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    const x = niceScale(cx - (span * pw) / 2, cx + (span * pw) / 2, f.left, f.width - f.right);
    const y = niceScale(cy - (span * ph) / 2, cy + (span * ph) / 2, f.height - f.bottom, f.top);
    niceAxes(axisG, f, x, y, "Re λ", "Im λ");
    zero.replaceChildren();
    if (x.domain[0] < 0 && x.domain[1] > 0) zero.append(s("path", { d: `M${x(0)},${f.top}V${f.height - f.bottom}`, class: "xl-zero" }));
    if (y.domain[0] < 0 && y.domain[1] > 0) zero.append(s("path", { d: `M${f.left},${y(0)}H${f.width - f.right}`, class: "xl-zero" }));
    let od = "";
    for (let k = 0; k < H; k++) {
      if (k === hd) continue;
      for (let t = 0; t < T; t++) {
        const i = base + k * T + t;
        if (Number.isFinite(re.data[i]) && Number.isFinite(im.data[i])) od += `M${x(re.data[i]).toFixed(1)},${y(im.data[i]).toFixed(1)}h0.01`;
      }
    }
    others.setAttribute("d", od);
    pts.replaceChildren();
    current = [];
    for (let t = 0; t < T; t++) {
      const i = base + hd * T + t;
      const a = re.data[i], b = im.data[i];
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      current.push({ x: x(a), y: y(b), re: a, im: b });
      pts.append(s("circle", { cx: x(a).toFixed(1), cy: y(b).toFixed(1), r: 3, fill: ACCENT, "fill-opacity": 0.75, class: "xl-pt" }));
    }
    svg.setAttribute("aria-label", `eigenvalues of layer ${l} head ${hd}`);
    svg.dataset.layer = String(l);
    svg.dataset.head = String(hd);
    let maxRe = -Infinity;
    for (const p of current) maxRe = Math.max(maxRe, p.re);
    status.textContent = `layer ${l}, head ${hd}: ${current.length} eigenvalues, max Re ${fmt(maxRe)} (grey: other heads of layer ${l})`;
  };
  const onMove = (ev: MouseEvent): void => {
    const [px, py] = svgPoint(svg, ev, f);
    let best = -1, dist = 64;
    current.forEach((p, i) => {
      const dd = (p.x - px) ** 2 + (p.y - py) ** 2;
      if (dd < dist) { dist = dd; best = i; }
    });
    if (best >= 0) status.textContent = `λ = ${fmt(current[best].re)} ${current[best].im < 0 ? "−" : "+"} ${fmt(Math.abs(current[best].im))}i`;
  };
  svg.addEventListener("mousemove", onMove);
  d.add(() => svg.removeEventListener("mousemove", onMove));
  d.add(bus.on("layer", draw));
  d.add(bus.on("head", draw));
  draw();
  return () => {
    d.run();
    root.remove();
  };
}
