// Fixture payload data shaped like the Python builders' output (arrays as base64 specs).

type Kind = "float32" | "int32" | "uint8";

export function spec(kind: Kind, shape: number[], values: ArrayLike<number>) {
  const typed = kind === "float32" ? new Float32Array(values) : kind === "int32" ? new Int32Array(values) : new Uint8Array(values);
  const bytes = new Uint8Array(typed.buffer);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return { dtype: kind, shape, data: btoa(bin) };
}

/** 8×8 image split into 4 quadrant regions; 3 tokens; 4 steps (one region per step). */
export function explanationData() {
  const W = 8;
  const labels: number[] = [];
  const image: number[] = [];
  for (let y = 0; y < W; y++) {
    for (let x = 0; x < W; x++) {
      labels.push((y < 4 ? 0 : 2) + (x < 4 ? 0 : 1));
      image.push(200, 180, 160);
    }
  }
  const T = 3;
  const R = 4;
  const regionScores: number[] = [];
  for (let t = 0; t < T; t++) for (let r = 0; r < R; r++) regionScores.push(t === r ? 1 : 0.1 * r);
  const ins = [0.1, 0.5, 0.7, 0.8, 0.9, 0.2, 0.2, 0.6, 0.7, 0.8, 0.0, 0.1, 0.1, 0.2, 0.9];
  const del = [0.9, 0.4, 0.3, 0.2, 0.1, 0.8, 0.8, 0.3, 0.2, 0.2, 0.9, 0.9, 0.8, 0.7, 0.0];
  return {
    tokens: ["a", "<img src=x onerror=alert(1)>", "</script><script>alert(2)</script>"],
    prompt_tokens: ["<image>", "Describe"],
    scores: spec("float32", [T], [0.2, 0.5, 0.9]),
    score_label: "vision reliance",
    image: spec("uint8", [W, W, 3], image),
    labels: spec("int32", [W, W], labels),
    n_regions: R,
    region_scores: spec("float32", [T, R], regionScores),
    map_label: "score",
    order: spec("int32", [R], [0, 1, 2, 3]),
    insertion: spec("float32", [T, R + 1], ins),
    deletion: spec("float32", [T, R + 1], del),
    area: spec("float32", [R + 1], [0, 0.25, 0.5, 0.75, 1]),
    metrics: { "insertion AUC": 0.61, "deletion AUC": 0.3 },
    method: "eagle",
  };
}

export function spectrumData(L = 2, H = 3, T = 4) {
  const n = L * H * T;
  const re = Array.from({ length: n }, (_, i) => Math.cos(i) * (1 + (i % T)));
  const im = Array.from({ length: n }, (_, i) => Math.sin(i));
  const logits = Array.from({ length: L * H * T * T }, (_, i) => Math.sin(i / 3));
  const stats = Array.from({ length: 2 * L * H }, (_, i) => (i < L * H ? i : 100 * i));
  return {
    scheme: "rope",
    n_layers: L,
    n_heads: H,
    eig_real: spec("float32", [L, H, T], re),
    eig_imag: spec("float32", [L, H, T], im),
    logits: spec("float32", [L, H, T, T], logits),
    stats: spec("float32", [2, L, H], stats),
    stat_names: ["spread", "condition"],
    deposit_drop: spec("float32", [L, H], Array.from({ length: L * H }, (_, i) => i / 10)),
    toeplitz: spec("float32", [L * H, 2 * T - 1], Array.from({ length: L * H * (2 * T - 1) }, (_, i) => Math.cos(i))),
    toeplitz_offsets: Array.from({ length: 2 * T - 1 }, (_, i) => i - (T - 1)),
  };
}

/** Canvas pixels as a string (jsdom has no canvas: falls back to a draw counter the views don't have). */
export function canvases(el: HTMLElement): HTMLCanvasElement[] {
  return Array.from(el.querySelectorAll("canvas"));
}
