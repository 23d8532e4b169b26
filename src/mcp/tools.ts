/**
 * MCP tools generated from the HTTP route table: every route that declares `tool` becomes a
 * tool whose input schema is the route's path parameters, query and body, and whose output
 * schema is the route's answer — the same valibot schemas, so a field added to a route shows
 * up in its tool without touching this folder.
 */
import type { AnyRoute, ToolSpec } from "../http/mod.ts";
import { jsonSchemaOf } from "../http/mod.ts";

type JsonObject = Record<string, unknown>;

/** A tool and the route it calls. */
export interface McpTool {
  name: string;
  title: string;
  description: string;
  inputSchema: JsonObject;
  outputSchema?: JsonObject;
  annotations: {
    title: string;
    readOnlyHint: boolean;
    destructiveHint: boolean;
    idempotentHint: boolean;
    openWorldHint: boolean;
  };
  route: AnyRoute;
  /** Names of the route's path parameters and query fields (the rest is the body). */
  pathParams: string[];
  queryFields: string[];
  /** The route takes raw bytes: the tool takes them as `content` in `encoding`. */
  rawBody: boolean;
  /** The route can stream its output as events (progress notifications). */
  streams: boolean;
}

/** The arguments that carry a raw body's bytes. */
const RAW_BODY_PROPERTIES = {
  content: { type: "string", description: "The bytes, as text in `encoding`" },
  encoding: {
    type: "string",
    enum: ["utf8", "base64"],
    default: "utf8",
    description: "How `content` holds the bytes",
  },
};

function objectParts(schema: JsonObject | undefined): {
  properties: JsonObject;
  required: string[];
} {
  if (schema === undefined) return { properties: {}, required: [] };
  return {
    properties: (schema.properties ?? {}) as JsonObject,
    required: (schema.required ?? []) as string[],
  };
}

function inputSchemaOf(route: AnyRoute, pathParams: readonly string[]): JsonObject {
  const properties: JsonObject = {};
  const required: string[] = [];
  for (const name of pathParams) {
    properties[name] = { type: "string", description: `The route's {${name}}` };
    required.push(name);
  }
  const query = objectParts(route.query === undefined ? undefined : jsonSchemaOf(route.query));
  Object.assign(properties, query.properties);
  required.push(...query.required);
  const out: JsonObject = { type: "object", properties, additionalProperties: false };
  if (route.rawBody !== undefined) {
    Object.assign(properties, RAW_BODY_PROPERTIES);
    required.push("content");
  }
  if (route.body !== undefined) {
    const body = jsonSchemaOf(route.body);
    if (body.properties !== undefined) {
      Object.assign(properties, body.properties);
      required.push(...((body.required ?? []) as string[]));
    } else {
      // A body of alternative shapes (merge): each alternative with the path and query fields.
      out.anyOf = ((body.anyOf ?? body.oneOf ?? []) as JsonObject[]).map((alt) => alt);
      delete out.additionalProperties;
    }
  }
  if (required.length > 0) out.required = [...new Set(required)];
  return out;
}

function outputSchemaOf(route: AnyRoute): JsonObject | undefined {
  const ok = route.responses[200] ?? route.responses[201];
  if (ok?.schema === undefined || ok.contentType !== undefined) return undefined;
  // A route that may answer bytes (a file) has no single structured shape.
  if (ok.alternatives?.some((a) => a.contentType === "application/octet-stream")) return undefined;
  const schema = jsonSchemaOf(ok.schema);
  return schema.type === "object" ? schema : undefined;
}

function toolOf(route: AnyRoute, spec: ToolSpec): McpTool {
  const pathParams = [...route.path.matchAll(/\/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
  const queryFields = Object.keys(
    objectParts(route.query === undefined ? undefined : jsonSchemaOf(route.query)).properties,
  );
  const tool: McpTool = {
    name: spec.name,
    title: spec.title,
    description: `${route.summary} (HTTP: ${route.method} ${route.path}; needs the ${route.access} role)`,
    inputSchema: inputSchemaOf(route, pathParams),
    annotations: {
      title: spec.title,
      readOnlyHint: spec.readOnly,
      destructiveHint: spec.destructive,
      idempotentHint: spec.idempotent,
      openWorldHint: spec.destructive && !spec.readOnly && route.tag === "sandbox",
    },
    route,
    pathParams,
    queryFields,
    rawBody: route.rawBody !== undefined,
    streams: Object.values(route.responses).some((r) =>
      r.alternatives?.some((a) => a.contentType === "text/event-stream"),
    ),
  };
  const output = outputSchemaOf(route);
  if (output !== undefined) tool.outputSchema = output;
  return tool;
}

/**
 * The tools of a route table, in table order.
 *
 * @example
 * ```ts
 * const tools = toolsOf(app.http.routes);
 * ```
 */
export function toolsOf(routes: readonly AnyRoute[]): McpTool[] {
  const tools: McpTool[] = [];
  for (const route of routes) if (route.tool !== undefined) tools.push(toolOf(route, route.tool));
  return tools;
}
