// Curve rows vs tokens: a result may explain only some generated tokens. `targets[i]` is the generated
// token of curve row i; without `targets`, row i is token i.

import { vector } from "./arrays";

export interface RowMap {
  /** Curve row of a generated token, or -1 when that token was not explained (or none is selected). */
  rowOf(token: number): number;
  rows: number;
}

export function rowMap(targets: unknown, rows: number): RowMap {
  const t = vector(targets);
  if (!t.length) return { rows, rowOf: (token) => (token >= 0 && token < rows ? token : -1) };
  const index = new Map<number, number>();
  t.forEach((tok, i) => {
    if (i < rows && !index.has(tok)) index.set(tok, i);
  });
  return { rows, rowOf: (token) => index.get(token) ?? -1 };
}
