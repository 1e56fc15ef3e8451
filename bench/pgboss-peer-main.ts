// The peer's own Node process (forked by bench/peer-process.ts), as a Node team would deploy its
// worker: its CPU is not shared with the sandbox and the bench in this process's one thread.
// Messages in: start, enqueue, stop; each answered once (see PeerReply).
import { type Peer, startPeer } from "./pgboss-peer.ts";
import type { PeerReply, PeerRequest } from "./peer-process.ts";

// send and disconnect exist only on a child forked with an IPC channel; fail at once otherwise.
if (!process.send || !process.disconnect) {
  throw new Error("bench/pgboss-peer-main.ts runs only as a child forked with an IPC channel");
}
const send = process.send.bind(process);
const disconnect = process.disconnect.bind(process);

let peer: Peer | null = null;
const reply = (message: PeerReply) => send(message);
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

process.on("message", async (message: PeerRequest) => {
  try {
    switch (message.type) {
      case "start":
        peer = await startPeer({
          ...message.options,
          onError: (err) => reply({ type: "error", message: String(err) }),
        });
        return reply({ type: "started", cpuMs: cpuMs() });
      case "enqueue": {
        const startedAt = Date.now();
        await peer!.enqueue(message.jobs);
        return reply({ type: "enqueued", startedAt, committedAt: Date.now() });
      }
      case "stop":
        await peer?.stop();
        reply({ type: "stopped", counters: peer?.counters ?? null, cpuMs: cpuMs() });
        return disconnect();
    }
  } catch (err) {
    reply({ type: "error", message: String(err), fatal: true });
  }
});
