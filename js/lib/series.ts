// Series styling shared by the live and the saved training view: a colour per series NAME (never per draw
// order, so a series keeps its colour when the live view adds series or the saved view sorts them) and the
// panel a series belongs to (grouped by quantity). The same table lives in Python
// (xattr_lab/viz/training_view.py, used by the plotly figures); tests/viz/test_figures.py checks they agree.

/* SERIES-SPEC-BEGIN */
export const SERIES_SPEC = {
  "palette": ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"],
  "known": {
    "train_loss": "#4e79a7", "test_loss": "#f28e2b", "val_loss": "#b07aa1", "loss": "#4e79a7",
    "restricted_loss": "#59a14f", "excluded_loss": "#e15759",
    "train_acc": "#4e79a7", "test_acc": "#f28e2b", "val_acc": "#b07aa1", "acc": "#4e79a7", "accuracy": "#4e79a7",
    "weight_norm": "#76b7b2", "med": "#59a14f",
    "fourier_gini": "#4e79a7", "n_key_freqs": "#f28e2b",
    "effective_rank": "#4e79a7", "participation_ratio": "#f28e2b",
    "wd_uniformity_norm_cv": "#59a14f", "wd_uniformity_dist_cv": "#e15759",
    "unif_hypersphere": "#b07aa1",
    "lr": "#9c755f", "epoch": "#bab0ac"
  },
  "groups": [
    {"title": "losses", "log_y": true, "parts": ["loss", "xent", "nll", "perplexity"]},
    {"title": "accuracy", "log_y": false, "parts": ["acc", "accuracy", "frac", "fraction"]},
    {"title": "Fourier sparsity", "log_y": true, "parts": ["fourier", "freq", "freqs", "gini"]},
    {"title": "hypersphere uniformity", "log_y": false, "parts": ["hypersphere"]},
    {"title": "embedding geometry", "log_y": true, "parts": ["rank", "participation", "cv", "uniformity"]},
    {"title": "norms and distances", "log_y": true, "parts": ["norm", "med", "dist", "distance"]},
    {"title": "schedule", "log_y": false, "parts": ["lr", "epoch"]}
  ],
  "other": {"title": "other", "log_y": false}
};
/* SERIES-SPEC-END */

/** 32-bit FNV-1a of the UTF-8 bytes of `text` (the same in Python: colours must not depend on the language). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The colour of a series: a fixed one for the names the trainers log, else a hash of the name. */
export function seriesColour(name: string): string {
  const known = (SERIES_SPEC.known as Record<string, string>)[name];
  if (known) return known;
  return SERIES_SPEC.palette[fnv1a(name) % SERIES_SPEC.palette.length];
}

/** Lower-case words of a series name ("test_acc" → ["test", "acc"]). */
export function nameParts(name: string): string[] {
  return name.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

export interface PanelSpec {
  title: string;
  names: string[];
  log_y?: boolean;
}

/** The panel (by quantity) a series goes to: the first group one of whose words the name contains. */
export function groupOf(name: string): { title: string; log_y: boolean } {
  const parts = nameParts(name);
  for (const g of SERIES_SPEC.groups) if (g.parts.some((p) => parts.includes(p))) return { title: g.title, log_y: g.log_y };
  return { ...SERIES_SPEC.other };
}

/** Series grouped into panels by quantity, in the table's panel order. */
export function defaultPanels(names: string[]): PanelSpec[] {
  const order = [...SERIES_SPEC.groups.map((g) => g.title), SERIES_SPEC.other.title];
  const panels = new Map<string, PanelSpec>();
  for (const n of names) {
    const g = groupOf(n);
    if (!panels.has(g.title)) panels.set(g.title, { title: g.title, names: [], log_y: g.log_y });
    panels.get(g.title)!.names.push(n);
  }
  return [...panels.values()].sort((a, b) => order.indexOf(a.title) - order.indexOf(b.title));
}
