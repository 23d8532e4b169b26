/**
 * `POST /v1/sandbox/exec`: run a command under hard limits in the caller's tenant workspace;
 * `GET /v1/sandbox/capabilities`: what the sandbox can enforce on this host.
 */
import type { SandboxService } from "../../app-sandbox.ts";
import {
  CapabilityReportSchema,
  SandboxRequestSchema,
  SandboxResultSchema,
} from "../../sandbox/mod.ts";
import { type AnyRoute, defineRoute } from "../route.ts";

/** The sandbox routes. */
export function sandboxRoutes(deps: { sandbox: SandboxService }): AnyRoute[] {
  return [
    defineRoute({
      method: "POST",
      path: "/v1/sandbox/exec",
      tool: {
        name: "sandbox_exec",
        title: "Run a command in the sandbox",
        readOnly: false,
        destructive: true,
        idempotent: false,
      },
      summary:
        "Run a command under limits; the result says what was enforced. The run is killed if the client disconnects.",
      tag: "sandbox",
      access: "writer",
      body: SandboxRequestSchema,
      responses: {
        200: { description: "The run's result (any status)", schema: SandboxResultSchema },
      },
      handler: async (c, { body }) => {
        const result = await deps.sandbox.exec(body, {
          tenant: c.var.principal.tenant,
          traceId: c.var.traceId,
          signal: c.req.raw.signal,
        });
        return c.json(result);
      },
    }),
    defineRoute({
      method: "GET",
      path: "/v1/sandbox/capabilities",
      tool: {
        name: "sandbox_capabilities",
        title: "Sandbox capabilities",
        readOnly: true,
        destructive: false,
        idempotent: true,
      },
      summary:
        "What the sandbox can enforce on this host: mechanisms found, the report of a typical run, required limits missing and how to get them.",
      tag: "sandbox",
      access: "reader",
      responses: {
        200: { description: "The host's sandbox capabilities", schema: CapabilityReportSchema },
      },
      handler: async (c) => c.json(await deps.sandbox.capabilities()),
    }),
  ];
}
