/**
 * A response body read up to a limit: what an `http` step and a model call keep of an answer
 * (neither may grow memory without bound on a server's say-so).
 */

/**
 * The body's bytes, reading no more than `limitBytes` plus one chunk: past it (or when
 * Content-Length says so first) the stream is cancelled and `tooLarge()` thrown.
 */
export async function readBodyBounded(
  response: Response,
  limitBytes: number,
  tooLarge: () => unknown,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > limitBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
