/**
 * One JSON request of a CLI command to a running server, with its bearer token: the answer's
 * JSON, or a `VltairError` carrying the server's stable code (message `code: text`, so the CLI
 * prints it as it is).
 */
import { ERROR_CODES, type ErrorCode, VltairError } from "../core/mod.ts";

/** Longest wait for one request to the server (an upsert embeds its batch first). */
export const REQUEST_TIMEOUT_MS = 120_000;

const KNOWN_CODES = new Set<string>(ERROR_CODES);

/** Longest wait for a recovering server to become ready before a command gives up. */
export const READY_WAIT_MS = 60_000;
/** Pause between two `/v1/ready` probes while a server recovers. */
const READY_POLL_MS = 200;

/** A server, as a command reaches it. */
export interface ServerTarget {
  url: string;
  token: string;
  /** Where a line saying the command waits for the server to finish recovering goes (stderr). */
  onWait?: (line: string) => void;
}

/**
 * Like {@link serverRequestOnce}, but a server still recovering (503 `recovering`) is waited for
 * (up to {@link READY_WAIT_MS}, saying so once through `onWait`) and asked again.
 *
 * @example
 * ```ts
 * const page = await serverRequest({ url, token, onWait: io.stderr }, "GET", "/v1/tokens");
 * ```
 */
export async function serverRequest(
  server: ServerTarget,
  method: string,
  route: string,
  body?: unknown,
): Promise<unknown> {
  try {
    return await serverRequestOnce(server, method, route, body);
  } catch (error) {
    if (!(error instanceof VltairError) || error.details.reason !== "recovering") throw error;
    await waitReady(server);
    return serverRequestOnce(server, method, route, body);
  }
}

async function waitReady(server: ServerTarget): Promise<void> {
  server.onWait?.(
    `vltair: the server at ${server.url} is recovering its data; waiting up to ${READY_WAIT_MS / 1000} s\n`,
  );
  const deadline = performance.now() + READY_WAIT_MS;
  while (performance.now() < deadline) {
    const status = await fetch(`${server.url}/v1/ready`, {
      signal: AbortSignal.timeout(READY_POLL_MS * 5),
    })
      .then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      })
      .catch(() => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  throw new VltairError(
    "unavailable",
    `unavailable: the server at ${server.url} was still recovering after ${READY_WAIT_MS / 1000} s`,
    { details: { reason: "recovering" } },
  );
}

/** Sends `method route` with `body` (JSON) once and returns the parsed answer. */
export async function serverRequestOnce(
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
