import { describe, expect, test } from "bun:test";
import { runtimeName, serve } from "../../../src/platform/mod.ts";

/** A handler whose responses wait until `release()` is called. */
function gated() {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started: () => void = () => {};
  const entered = new Promise<void>((resolve) => {
    started = resolve;
  });
  const fetch = async (request: Request) => {
    if (new URL(request.url).pathname === "/slow") {
      started();
      await gate;
    }
    return new Response("done");
  };
  return { fetch, release, entered };
}

describe("serve", () => {
  test("runs on this runtime and binds a real port for port 0", async () => {
    expect(runtimeName()).toBe("bun");
    const server = await serve({ fetch: () => new Response("hi"), hostname: "127.0.0.1", port: 0 });
    expect(server.port).toBeGreaterThan(0);
    expect(await (await fetch(`http://127.0.0.1:${server.port}/`)).text()).toBe("hi");
    await server.stop(1000);
  });

  test("stop lets an in-flight request finish within the grace period", async () => {
    const { fetch: handler, release, entered } = gated();
    const server = await serve({ fetch: handler, hostname: "127.0.0.1", port: 0 });
    const inFlight = fetch(`http://127.0.0.1:${server.port}/slow`);
    await entered;
    const stopped = server.stop(10_000);
    release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("done");
    await stopped;
    await expect(fetch(`http://127.0.0.1:${server.port}/`)).rejects.toThrow();
  });

  test("stop cuts a request that outlives the grace period", async () => {
    const { fetch: handler, release, entered } = gated();
    const server = await serve({ fetch: handler, hostname: "127.0.0.1", port: 0 });
    const inFlight = fetch(`http://127.0.0.1:${server.port}/slow`).then(
      (r) => r.status,
      () => "cut",
    );
    await entered;
    await server.stop(50);
    expect(await inFlight).toBe("cut");
    release();
  });
});
