/** The Hono environment of the app: what every handler finds in its context. */
import type { Context } from "hono";
import type { Logger } from "../obs/mod.ts";
import type { Principal } from "../policy/mod.ts";

export interface AppEnv {
  Variables: {
    requestId: string;
    /** W3C trace id (32 hex): from `traceparent` when valid, else generated. */
    traceId: string;
    /** The authenticated caller; absent only on public routes. */
    principal: Principal;
    log: Logger;
    /** The route pattern that served the request, for metrics and logs. */
    route: string;
  };
}

export type AppContext = Context<AppEnv>;
