import { describe, expect, test } from "bun:test";
import { MetricsRegistry } from "../../../src/obs/mod.ts";

describe("MetricsRegistry", () => {
  test("renders counters with labels in the text format", () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter("x_requests_total", "Requests.");
    requests.inc({ route: "/a", status: "200" });
    requests.inc({ status: "200", route: "/a" }, 2);
    requests.inc({ route: "/b", status: "404" });
    const text = registry.render();
    expect(text).toContain("# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n");
    expect(text).toContain('x_requests_total{route="/a",status="200"} 3\n');
    expect(text).toContain('x_requests_total{route="/b",status="404"} 1\n');
  });

  test("histograms are cumulative with +Inf, sum and count", () => {
    const registry = new MetricsRegistry();
    const h = registry.histogram("x_seconds", "Latency.", [0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    const text = registry.render();
    expect(text).toContain('x_seconds_bucket{le="0.1"} 1\n');
    expect(text).toContain('x_seconds_bucket{le="1"} 2\n');
    expect(text).toContain('x_seconds_bucket{le="+Inf"} 3\n');
    expect(text).toContain("x_seconds_sum 5.55\n");
    expect(text).toContain("x_seconds_count 3\n");
  });

  test("gauges are read at render time", () => {
    const registry = new MetricsRegistry();
    let value = 1;
    registry.gauge("x_bytes", "Bytes.", () => value);
    value = 42;
    expect(registry.render()).toContain("x_bytes 42\n");
  });

  test("label values are escaped", () => {
    const registry = new MetricsRegistry();
    registry.counter("x_total", "X.").inc({ path: 'a"b\\c\nd' });
    expect(registry.render()).toContain('x_total{path="a\\"b\\\\c\\nd"} 1');
  });

  test("series beyond the bound collapse into one overflow series", () => {
    const registry = new MetricsRegistry({ seriesMax: 3 });
    const c = registry.counter("x_total", "X.");
    for (let i = 0; i < 10; i++) c.inc({ route: `/r${i}` });
    const lines = registry
      .render()
      .split("\n")
      .filter((l) => l.startsWith("x_total"));
    expect(lines).toHaveLength(4);
    expect(lines).toContain('x_total{overflow="true"} 7');
  });

  test("a metric name is defined once and must be valid", () => {
    const registry = new MetricsRegistry();
    registry.counter("x_total", "X.");
    expect(() => registry.counter("x_total", "X.")).toThrow("metric x_total defined twice");
    expect(() => registry.counter("1bad", "X.")).toThrow("invalid metric name 1bad");
  });
});
