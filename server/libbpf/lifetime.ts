/**
 * Process-exit safety net for kernel resources. Every handle in server/libbpf registers itself
 * while open and unregisters in its `close()`; whatever is still registered when the process
 * exits ('exit' event) is closed newest-first, so links go before the objects and perf events
 * they use. Signals are left to the application (a CLI may want to flush on Ctrl-C): when a
 * signal kills the process, the kernel itself releases every fd-based BPF object, link and
 * perf event.
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
