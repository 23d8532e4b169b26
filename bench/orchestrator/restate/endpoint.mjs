// The Restate peer's service: one handler with three journaled steps (ctx.run), the equivalent of
// vltair's 3-step echo workflow. Run by Node inside the bench's network namespace (loopback only).
// Node 20 lacks Promise.withResolvers, which this SDK uses.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
const restate = await import("@restatedev/restate-sdk");

const bench = restate.service({
  name: "bench",
  handlers: {
    run: async (ctx, input) => {
      const a = await ctx.run("a", () => input?.value ?? 1);
      const b = await ctx.run("b", () => a);
      return ctx.run("c", () => b);
    },
  },
});

restate.endpoint().bind(bench).listen(Number(process.argv[2] ?? 9080));
