/**
 * Process-exit safety net for kernel resources. Every handle in server/libbpf registers itself
 * while open and unregisters in its `close()`; whatever is still registered when the process
 * exits (normally, or on SIGINT/SIGTERM) is closed newest-first, so links go before the
 * objects and perf events they use.
 */

/** Something that owns a kernel resource. `close()` must be idempotent and must not throw. */
export interface Closable {
  close(): void;
}

const open = new Set<Closable>();
let hooked = false;

function closeAll(): void {
  for (const resource of [...open].reverse()) {
    try {
      resource.close();
    } catch {
      // best effort at exit
    }
  }
  open.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', closeAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      closeAll();
      // Re-raise with the default action only if nobody else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Registers an open resource; call `release` from its `close()`. */
export function track(resource: Closable): void {
  hook();
  open.add(resource);
}

/** Forgets a closed resource. */
export function release(resource: Closable): void {
  open.delete(resource);
}

/** Number of resources still open (for tests). */
export function openResourceCount(): number {
  return open.size;
}
