/**
 * A small Prometheus registry: counters and histograms with labels, rendered in the text
 * exposition format 0.0.4. Series per metric are bounded so a hostile label value cannot grow
 * memory: past `seriesMax` new label sets collapse into one `overflow` series.
 */
import { assert } from "../core/mod.ts";

export type Labels = Record<string, string>;

/** Default upper bounds of latency histograms, in seconds (0.25 ms … 10 s). */
export const LATENCY_BUCKETS_SECONDS = [
  0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** Label sets per metric before new ones collapse into the overflow series. */
const SERIES_MAX_DEFAULT = 2048;

interface Series {
  labels: Labels;
  value: number;
  counts: number[];
  sum: number;
}

interface Metric {
  name: string;
  help: string;
  kind: "counter" | "gauge" | "histogram";
  buckets: readonly number[];
  series: Map<string, Series>;
  collect?: () => number;
}

/** Counter handle. */
export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

/** Histogram handle. */
export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

/**
 * A registry of metrics.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * const requests = registry.counter("vltair_http_requests_total", "HTTP requests.");
 * requests.inc({ route: "/v1/health", status: "200" });
 * registry.render(); // Prometheus text
 * ```
 */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();
  readonly #seriesMax: number;

  constructor(options: { seriesMax?: number } = {}) {
    this.#seriesMax = options.seriesMax ?? SERIES_MAX_DEFAULT;
    assert(this.#seriesMax > 0, "seriesMax must be positive");
  }

  counter(name: string, help: string): Counter {
    const metric = this.#define(name, help, "counter", []);
    return {
      inc: (labels = {}, by = 1) => {
        assert(by >= 0, "a counter only goes up");
        this.#series(metric, labels).value += by;
      },
    };
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    assert(buckets.length > 0, "a histogram needs buckets");
    const metric = this.#define(name, help, "histogram", buckets);
    return {
      observe: (value, labels = {}) => {
        const series = this.#series(metric, labels);
        for (let i = 0; i < buckets.length; i++) {
          if (value <= (buckets[i] as number)) series.counts[i] = (series.counts[i] ?? 0) + 1;
        }
        series.value += 1;
        series.sum += value;
      },
    };
  }

  /** A gauge read at render time (e.g. process memory). */
  gauge(name: string, help: string, collect: () => number): void {
    const metric = this.#define(name, help, "gauge", []);
    metric.collect = collect;
  }

  /** The Prometheus text exposition of every metric. */
  render(): string {
    const lines: string[] = [];
    for (const metric of this.#metrics.values()) {
      lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.kind}`);
      if (metric.collect !== undefined)
        lines.push(`${metric.name} ${formatNumber(metric.collect())}`);
      for (const series of metric.series.values()) renderSeries(metric, series, lines);
    }
    return `${lines.join("\n")}\n`;
  }

  #define(name: string, help: string, kind: Metric["kind"], buckets: readonly number[]): Metric {
    assert(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name), `invalid metric name ${name}`);
    assert(!this.#metrics.has(name), `metric ${name} defined twice`);
    const metric: Metric = { name, help, kind, buckets, series: new Map() };
    this.#metrics.set(name, metric);
    return metric;
  }

  #series(metric: Metric, labels: Labels): Series {
    let key = labelKey(labels);
    let series = metric.series.get(key);
    if (series !== undefined) return series;
    if (metric.series.size >= this.#seriesMax) {
      labels = { overflow: "true" };
      key = labelKey(labels);
      series = metric.series.get(key);
      if (series !== undefined) return series;
    }
    series = { labels, value: 0, counts: metric.buckets.map(() => 0), sum: 0 };
    metric.series.set(key, series);
    return series;
  }
}

function renderSeries(metric: Metric, series: Series, lines: string[]): void {
  if (metric.kind !== "histogram") {
    lines.push(`${metric.name}${formatLabels(series.labels)} ${formatNumber(series.value)}`);
    return;
  }
  metric.buckets.forEach((bound, i) => {
    const labels = formatLabels({ ...series.labels, le: formatNumber(bound) });
    lines.push(`${metric.name}_bucket${labels} ${series.counts[i] ?? 0}`);
  });
  const inf = formatLabels({ ...series.labels, le: "+Inf" });
  lines.push(`${metric.name}_bucket${inf} ${series.value}`);
  lines.push(`${metric.name}_sum${formatLabels(series.labels)} ${formatNumber(series.sum)}`);
  lines.push(`${metric.name}_count${formatLabels(series.labels)} ${series.value}`);
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([key, value]) => `${key}="${escapeLabel(value)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
