/**
 * The in-process CollectorBackend: a CollectorHost in this very process behind the same client,
 * validation and handles as the collector process (so tests exercise the same path). No
 * privilege separation: whoever uses it needs the privileges the collectors need. For tests
 * (fake collectors, replayed profiles through HostOptions), the CLI and debugging.
 */
import { CollectorClient, type CollectorBackend, type CollectorTransport } from './backend.ts';
import { CollectorHost, type HostOptions } from './host.ts';
import type { CollectorOutput, CollectorRequest } from './protocol.ts';

class InProcessTransport implements CollectorTransport {
  readonly #options: HostOptions;
  #host: CollectorHost | null = null;
  #deliver: ((output: CollectorOutput) => void) | null = null;

  constructor(options: HostOptions) {
    this.#options = options;
  }

  listen(onOutput: (output: CollectorOutput) => void): void {
    this.#deliver = onOutput;
    this.#host = new CollectorHost((event) => onOutput(event), this.#options);
  }

  send(request: CollectorRequest): void {
    const host = this.#host;
    if (!host) throw new Error('the in-process collector is not listening');
    // As over IPC: the host sees a copy (it must not share objects with the caller) and answers later.
    const copy = structuredClone(request);
    void host.handle(copy).then((reply) => this.#deliver?.(reply));
  }

  async close(): Promise<void> {
    await this.#host?.close();
    this.#host = null;
  }
}

/** A backend whose collectors run in this process. */
export function inProcessBackend(options: HostOptions = {}): CollectorBackend {
  return new CollectorClient(new InProcessTransport(options), 'in-process', process.pid);
}
