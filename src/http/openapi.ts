/** OpenAPI 3.1 document generated from the route table and its valibot schemas. */
import { toJsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { ErrorEnvelopeSchema } from "./envelope.ts";
import type { AnyRoute } from "./route.ts";

type JsonObject = Record<string, unknown>;

/**
 * Converts a Hono path (`/v1/docs/:id`) to an OpenAPI path (`/v1/docs/{id}`). A colon inside a
 * segment is literal in both (`/v1/context/docs:upsert`, Google's custom-method style). A
 * parameter's pattern is dropped (`:path{.+}` is `{path}`), except a custom-method suffix the
 * pattern must carry because Hono cannot put text after a parameter: `:id{[0-9a-f]+:fork}` is
 * `{id}:fork`.
 */
export function openApiPath(path: string): string {
  return path.replace(
    /(^|\/):([A-Za-z0-9_]+)(?:\{[^}]*?(:[a-z]+)?\})?/g,
    (_, lead: string, name: string, verb: string | undefined) => `${lead}{${name}}${verb ?? ""}`,
  );
}

/** A valibot schema as JSON Schema (draft 2020-12, no `$schema`): OpenAPI's and MCP's. */
export function jsonSchemaOf(schema: v.GenericSchema): JsonObject {
  const json = toJsonSchema(schema, { target: "draft-2020-12", errorMode: "ignore" }) as JsonObject;
  delete json.$schema;
  return json;
}

function parametersOf(route: AnyRoute): JsonObject[] {
  const params: JsonObject[] = [];
  for (const match of openApiPath(route.path).matchAll(/\/\{([A-Za-z0-9_]+)\}/g)) {
    params.push({ name: match[1], in: "path", required: true, schema: { type: "string" } });
  }
  if (route.query !== undefined) {
    const query = jsonSchemaOf(route.query);
    const properties = (query.properties ?? {}) as Record<string, JsonObject>;
    const required = new Set((query.required ?? []) as string[]);
    for (const [name, schema] of Object.entries(properties)) {
      params.push({ name, in: "query", required: required.has(name), schema });
    }
  }
  return params;
}

function operationOf(route: AnyRoute): JsonObject {
  const responses: JsonObject = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    const contentType = spec.contentType ?? "application/json";
    const content: JsonObject = {};
    if (spec.schema !== undefined) content[contentType] = { schema: jsonSchemaOf(spec.schema) };
    for (const alt of spec.alternatives ?? []) {
      content[alt.contentType] =
        alt.schema === undefined ? {} : { schema: jsonSchemaOf(alt.schema) };
    }
    responses[status] =
      Object.keys(content).length === 0
        ? { description: spec.description }
        : { description: spec.description, content };
  }
  responses.default = {
    description: "Error envelope",
    content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" } } },
  };
  const operation: JsonObject = {
    operationId: `${route.method.toLowerCase()}${openApiPath(route.path).replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
    summary: route.summary,
    tags: [route.tag],
    parameters: parametersOf(route),
    responses,
    security: route.access === "public" ? [] : [{ bearer: [] }],
  };
  if (route.access !== "public") operation["x-vltair-role"] = route.access;
  if (route.body !== undefined) {
    operation.requestBody = {
      required: true,
      content: { "application/json": { schema: jsonSchemaOf(route.body) } },
    };
  }
  if (route.rawBody !== undefined) {
    operation.requestBody = {
      required: true,
      description: route.rawBody.description,
      content: { [route.rawBody.contentType]: { schema: { type: "string", format: "binary" } } },
    };
  }
  return operation;
}

/**
 * Builds the OpenAPI 3.1 document of the routes.
 *
 * @example
 * ```ts
 * const doc = buildOpenApi(routes, { version: "0.1.0" });
 * ```
 */
export function buildOpenApi(routes: readonly AnyRoute[], info: { version: string }): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    (paths[path] as JsonObject)[route.method.toLowerCase()] = operationOf(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "vltair",
      version: info.version,
      description: "Context engine, sandbox, durable orchestrator and policy in one binary.",
    },
    servers: [{ url: "/" }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { ErrorEnvelope: jsonSchemaOf(ErrorEnvelopeSchema) },
    },
  };
}
