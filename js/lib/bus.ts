// A tiny selection bus shared by the views of one result: selecting a token (or head, or step) in one
// view updates the others, entirely in JS, so linking works with no kernel.

export type Listener = (value: number, source: string) => void;

export interface Bus {
  get(key: string): number;
  set(key: string, value: number, source?: string): void;
  on(key: string, fn: Listener): () => void;
}

export function createBus(initial: Record<string, number> = {}): Bus {
  const state = new Map<string, number>(Object.entries(initial));
  const listeners = new Map<string, Set<Listener>>();
  return {
    get: (key) => state.get(key) ?? -1,
    set(key, value, source = "") {
      if (state.get(key) === value) return;
      state.set(key, value);
      for (const fn of listeners.get(key) ?? []) fn(value, source);
    },
    on(key, fn) {
      if (!listeners.has(key)) listeners.set(key, new Set());
      listeners.get(key)!.add(fn);
      return () => listeners.get(key)?.delete(fn);
    },
  };
}
