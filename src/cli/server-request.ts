/**
 * One JSON request of a CLI command to a running server, with its bearer token: the answer's
 * JSON, or a `VltairError` carrying the server's stable code (message `code: text`, so the CLI
 * prints it as it is).
 */
import { ERROR_CODES, type ErrorCode, VltairError } from "../core/mod.ts";

/** Longest wait for one request to the server (an upsert embeds its batch first). */
export const REQUEST_TIMEOUT_MS = 120_000;

const KNOWN_CODES = new Set<string>(ERROR_CODES);

/** A server, as a command reaches it. */
export interface ServerTarget {
  url: string;
  token: string;
}

/**
 * Sends `method route` with `body` (JSON) and returns the parsed answer.
 *
 * @example
 * ```ts
 * const page = await serverRequest({ url, token }, "GET", "/v1/tokens");
 * ```
 */
export async function serverRequest(
  server: ServerTarget,
  method: string,
  route: string,
  body?: unknown,
): Promise<unknown> {
  let response: Response;
  try {
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    response = await fetch(`${server.url}${route}`, init);
  } catch (cause) {
    throw new VltairError(
      "unavailable",
      `unavailable: the server at ${server.url} does not answer`,
      {
        cause,
      },
    );
  }
  const json = (await response.json().catch(() => null)) as {
    error?: { code?: string; message?: string; details?: Record<string, unknown> };
  } | null;
  if (response.ok) return json;
  const raw = json?.error?.code ?? "";
  const code: ErrorCode = KNOWN_CODES.has(raw) ? (raw as ErrorCode) : "unavailable";
  const message = json?.error?.message ?? `HTTP ${response.status}`;
  throw new VltairError(code, `${raw === "" ? code : raw}: ${message}`, {
    details: { ...json?.error?.details, status: response.status },
  });
}
