// A tiny selection bus shared by the views of one result: selecting a token (or head, or step) in one
// view updates the others, entirely in JS, so linking works with no kernel.
//
// Keys hold numbers ("token", "step", "mode", "layer", "head", "method", "logx", "logy"); -1 means
// "nothing selected". Events ("append", ...) carry arbitrary details for live updates (widget only).

export type Listener = (value: number, source: string) => void;
export type EventListener = (detail: unknown) => void;

export interface Bus {
  get(key: string): number;
  set(key: string, value: number, source?: string): void;
  on(key: string, fn: Listener): () => void;
  emit(topic: string, detail: unknown): void;
  listen(topic: string, fn: EventListener): () => void;
  snapshot(): Record<string, number>;
}

export function createBus(initial: Record<string, number> = {}): Bus {
  const state = new Map<string, number>();
  for (const [k, v] of Object.entries(initial ?? {})) if (typeof v === "number") state.set(k, v);
  const listeners = new Map<string, Set<Listener>>();
  const events = new Map<string, Set<EventListener>>();
  return {
    get: (key) => state.get(key) ?? -1,
    set(key, value, source = "") {
      if (!Number.isFinite(value) || state.get(key) === value) return;
      state.set(key, value);
      for (const fn of [...(listeners.get(key) ?? [])]) fn(value, source);
    },
    on(key, fn) {
      if (!listeners.has(key)) listeners.set(key, new Set());
      listeners.get(key)!.add(fn);
      return () => listeners.get(key)?.delete(fn);
    },
    emit(topic, detail) {
      for (const fn of [...(events.get(topic) ?? [])]) fn(detail);
    },
    listen(topic, fn) {
      if (!events.has(topic)) events.set(topic, new Set());
      events.get(topic)!.add(fn);
      return () => events.get(topic)?.delete(fn);
    },
    snapshot: () => Object.fromEntries(state),
  };
}

/** Collects cleanup functions; `run()` calls them in reverse order, once. */
export function disposer(): { add: (fn: () => void) => void; run: () => void } {
  const fns: (() => void)[] = [];
  return {
    add: (fn) => void fns.push(fn),
    run: () => {
      while (fns.length) fns.pop()!();
    },
  };
}
