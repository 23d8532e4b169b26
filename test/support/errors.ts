/** The `VltairError` a call throws; fails the test when it throws nothing or something else. */
import { VltairError } from "../../src/core/mod.ts";

export function caught(run: () => unknown): VltairError {
  try {
    run();
  } catch (error) {
    if (error instanceof VltairError) return error;
    throw error;
  }
  throw new Error("no error thrown");
}
