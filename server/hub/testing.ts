/**
 * Test helpers for the hub: a real socket.io hub on an ephemeral loopback port, and a viewer
 * base class (a real socket.io client) that tests extend with the events they record.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { createHub, type Hub, type HubOptions } from './index.ts';
import type { FeatureFactory } from './feature.ts';
import { hostPolicy } from '../http/security.ts';
import type { Ack } from '../../lib/protocol.ts';

export interface TestHub {
  url: string;
  port: number;
  hub: Hub;
  close(): Promise<void>;
}

/** A hub with `features` on 127.0.0.1 port 0 (plain HTTP answers "ok"). */
export async function startTestHub(
  features: FeatureFactory[],
  token: string | null = null,
  options: Partial<Omit<HubOptions, 'token' | 'hostPolicy'>> = {},
): Promise<TestHub> {
  const http: Server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const hub = createHub(http, { token, hostPolicy: hostPolicy('127.0.0.1', port), version: 'test', features, ...options });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hub,
    close: async () => {
      await hub.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A real socket.io client. Subclasses record what they receive and call `notify()`. */
export class TestViewer {
  readonly socket: ClientSocket;
  readonly #wake = new Set<() => void>();

  constructor(url: string, token?: string) {
    this.socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: token ? { token } : {} });
  }

  /** Re-checks every pending `until` condition; call after recording a message. */
  protected notify(): void {
    for (const wake of [...this.#wake]) wake();
  }

  /** Resolves once `condition` holds (checked on every message), or fails after `timeoutMs`. */
  until(condition: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        this.#wake.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#wake.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.#wake.add(check);
      check();
    });
  }

  /** Sends a request and resolves with the server's acknowledgement. */
  request<T>(event: string, payload: unknown): Promise<Ack<T>> {
    return new Promise((resolve) => this.socket.emit(event, payload, resolve));
  }

  close(): void {
    this.socket.close();
  }
}

/** A real socket.io client of the hub at `url` with handshake `auth`, resolved once connected (rejects on connect_error). */
export async function joinHub(url: string, auth: Record<string, string>): Promise<ClientSocket> {
  const socket = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Sends `event` and resolves with its ack, whatever it says. */
export function ask<T>(socket: ClientSocket, event: string, payload?: unknown): Promise<Ack<T>> {
  return new Promise((resolve) => socket.emit(event, payload, resolve));
}

/** Sends `event` and resolves with the ack's value; a refusal throws, naming the event and the error. */
export async function value<T>(socket: ClientSocket, event: string, payload?: unknown): Promise<T> {
  const reply = await ask<T>(socket, event, payload);
  if (!reply.ok) throw new Error(`${event}: ${reply.error}`);
  return reply.value as T;
}
