// A scripted DynamicsClient for tests that drive the sync service without HTTP: sends are answered
// by the test's handler. A read the test did not script fails the test loudly rather than
// pretending Dynamics has no listings; there is no circuit breaker.
import type {
  DynamicsClient,
  DynamicsRequest,
  ReadOutcome,
  ReadRequest,
  SendOutcome,
} from "../../shared/dynamics/dynamics-client.ts";

export interface FakeDynamicsScript {
  send: (request: DynamicsRequest) => Promise<SendOutcome>;
  read?: (request: ReadRequest) => Promise<ReadOutcome>;
}

export function fakeDynamicsClient(script: FakeDynamicsScript): DynamicsClient {
  return {
    send: script.send,
    read: script.read ??
      ((request) =>
        Promise.reject(new Error(`fake Dynamics client: unscripted read ${request.url}`))),
    circuitState: () => null,
  };
}
