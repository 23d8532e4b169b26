/** Service calls for tests and benchmarks that use services in-process. */
import type { Call, Role } from "../../src/core/mod.ts";

/** A call of `tenant`'s `role` (admin by default) with a fixed trace id. */
export function callAs(tenant: string, role: Role = "admin"): Call {
  return {
    principal: { subject: `${tenant}-${role}`, tenant, roles: [role], tokenId: null },
    traceId: "0123456789abcdef0123456789abcdef",
  };
}
