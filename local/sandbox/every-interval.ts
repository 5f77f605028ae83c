/** Runs `work` every `ms`, skipping a tick while the last run is still going; returns the stop. */
export function everyInterval(work: () => Promise<unknown>, ms: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    work().finally(() => {
      running = false;
    });
  }, ms);
  return () => clearInterval(timer);
}
