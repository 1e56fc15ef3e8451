// Serves the sandbox app over real HTTP under Node. `stop()` closes every socket, including requests
// held open by `hang` faults, so a test leaves nothing listening.
import { serve } from "@hono/node-server";
import type { AddressInfo, Socket } from "node:net";
import {
  createSandboxApp,
  type SandboxAppDeps,
  type SandboxOptions,
  tokenPathFor,
  WEBHOOK_PATH,
} from "./app.ts";
import type { SandboxState } from "./state.ts";

export interface StartSandboxOptions extends SandboxOptions, SandboxAppDeps {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
}

export interface RunningSandbox {
  url: string;
  port: number;
  tokenUrl: string;
  webhookUrl: string;
  state: SandboxState;
  /** Resolves when every callback started so far has finished. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startSandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  const host = options.host ?? "127.0.0.1";
  const sandbox = createSandboxApp(options, options);
  const sockets = new Set<Socket>();
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: sandbox.app.fetch, port: options.port ?? 0, hostname: host },
      (info: AddressInfo) => {
        server.off("error", reject);
        const url = `http://${host.includes(":") ? `[${host}]` : host}:${info.port}`;
        let stopping: Promise<void> | null = null;
        resolve({
          url,
          port: info.port,
          tokenUrl: `${url}${tokenPathFor(sandbox.state.config.tenant)}`,
          webhookUrl: `${url}${WEBHOOK_PATH}`,
          state: sandbox.state,
          idle: () => sandbox.callbacks.idle(),
          stop() {
            stopping ??= new Promise<void>((done) => {
              sandbox.close();
              server.close(() => done());
              for (const socket of sockets) socket.destroy();
            }).then(() => sandbox.callbacks.idle());
            return stopping;
          },
        });
      },
    );
    server.on("error", reject);
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
  });
}
