// Error answers in Dataverse's shape: `{ "error": { "code": "0x…", "message": "…" } }` with OData
// headers. The codes are the ones Dataverse uses for the same situations.
import { errorBody } from "../../shared/http/http.ts";

export const DATAVERSE_CODES = {
  /** Missing privilege / not authorised. */
  unauthorized: "0x80040220",
  /** The request payload is not valid. */
  invalidPayload: "0x80048d19",
  /** Resource not found for the segment. */
  notFound: "0x80060888",
  /** Service protection API limit exceeded. */
  throttled: "0x80072322",
  /** Invalid argument (business-rule style rejection). */
  invalidArgument: "0x80040203",
  /** Unexpected server error. */
  unexpected: "0x80040216",
} as const;

const ODATA_HEADERS = {
  "Content-Type": "application/json; odata.metadata=minimal",
  "OData-Version": "4.0",
};

export function dataverseError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(errorBody(code, message)), {
    status,
    headers: { ...ODATA_HEADERS, ...headers },
  });
}

/** The code Dataverse would use for an injected status. */
export function codeForStatus(status: number): string {
  if (status === 401 || status === 403) return DATAVERSE_CODES.unauthorized;
  if (status === 404) return DATAVERSE_CODES.notFound;
  if (status === 429) return DATAVERSE_CODES.throttled;
  if (status >= 500) return DATAVERSE_CODES.unexpected;
  return DATAVERSE_CODES.invalidArgument;
}
