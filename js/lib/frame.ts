// Coalesce redraws into one per animation frame (synchronous where there are no frames, and in tests).

let sync = typeof requestAnimationFrame !== "function";

/** Draw synchronously (tests); returns the previous setting. */
export function setSyncFrames(value: boolean): boolean {
  const prev = sync;
  sync = value;
  return prev;
}

export interface Scheduler {
  schedule(): void;
  cancel(): void;
}

export function scheduler(draw: () => void): Scheduler {
  let id = 0;
  const run = (): void => {
    id = 0;
    draw();
  };
  return {
    schedule() {
      if (sync) return draw();
      if (!id) id = requestAnimationFrame(run);
    },
    cancel() {
      if (id) cancelAnimationFrame(id);
      id = 0;
    },
  };
}
