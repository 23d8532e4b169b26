/**
 * `POST /v1/sandbox/exec`: run a command under hard limits in the caller's default workspace;
 * `GET /v1/sandbox/capabilities`: what the sandbox can enforce on this host; and the workspace
 * routes (sandbox-workspaces.ts).
 */
import type { SandboxService } from "../../sandbox/mod.ts";
import {
  CapabilityReportSchema,
  SandboxRequestSchema,
  SandboxResultSchema,
} from "../../sandbox/mod.ts";
import { type AnyRoute, callOf, defineRoute } from "../route.ts";
import { sandboxCheckpointRoutes } from "./sandbox-checkpoints.ts";
import { execResponse } from "./sandbox-exec.ts";
import { sandboxWorkspaceRoutes } from "./sandbox-workspaces.ts";

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
        "Run a command under limits in the tenant's default workspace; the result says what was enforced. Accept: text/event-stream streams its output. The run is killed if the client disconnects.",
      tag: "sandbox",
      access: "writer",
      body: SandboxRequestSchema,
      responses: {
        200: {
          description: "The run's result (any status), or its events (stdout, stderr, then result)",
          schema: SandboxResultSchema,
          alternatives: [{ contentType: "text/event-stream" }],
        },
      },
      handler: (c, { body }) => execResponse(c, deps.sandbox, body, undefined),
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
      handler: async (c) => c.json(await deps.sandbox.capabilities(callOf(c))),
    }),
    ...sandboxWorkspaceRoutes(deps),
    ...sandboxCheckpointRoutes(deps),
  ];
}
